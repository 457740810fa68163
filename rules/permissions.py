"""Roles and permissions for every door, from the permissions pack (minimum necessary, PRIV-06).

`may(role, action)` goes through the same engine as every other decision, so its answer names the
rule that refused. `visible_fields(role, relation)` says which fields of a patient's record a role
may see: `relation` is "own" for the person's own caseload and "other" for everyone else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rules.decision import Decision
from rules.derive import role_scope
from rules.model import Situation, StaffFacts
from rules.service import RulesService, default_service

FIELDS = (
    "name", "time", "room", "clinician", "session_type", "group", "level_of_care", "phase",
    "needs", "authorization", "court_order", "consents", "contact", "notes", "audit",
)  # fmt: skip
"""Every field name the permissions pack may grant."""


def may(actor_role: str, action: str, service: RulesService | None = None) -> Decision:
    """May someone with this role ask for this action at all (before any patient is named)?"""
    service = service or default_service()
    actor = StaffFacts(id=f"role:{actor_role}", role=actor_role)
    return service.evaluate(action, actor, Situation(tz=ZoneInfo("UTC"), now=datetime.now(UTC)))


def scope(actor_role: str, action: str, service: RulesService | None = None) -> str | None:
    """'all', 'own_caseload', or None when the role may not ask for the action."""
    service = service or default_service()
    return role_scope([actor_role], action, service.packs.tables)


def visible_fields(
    actor_role: str, relation_to_patient: str, service: RulesService | None = None
) -> set[str]:
    """Fields of a patient's record the role may see; an unknown role or relation sees nothing."""
    service = service or default_service()
    row = service.packs.tables.get("roles", {}).get(actor_role) or {}
    key = "own" if relation_to_patient == "own" else "other"
    return set((row.get("fields") or {}).get(key, ()))


def redact(
    record: dict[str, object], actor_role: str, relation_to_patient: str
) -> dict[str, object]:
    """The record with only the fields the role may see (keys outside FIELDS are kept)."""
    allowed = visible_fields(actor_role, relation_to_patient)
    return {k: v for k, v in record.items() if k not in FIELDS or k in allowed}
