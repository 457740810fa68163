"""Roles and permissions for every door, from the permissions pack (minimum necessary, PRIV-06).

`may(roles, action)` goes through the same engine as every other decision, so its answer names the
rule that refused. `visible_fields(roles, relation)` says which fields of a patient's record the
roles may see: `relation` is "own" for the person's own caseload and "other" for everyone else.
`roles` is one role or every role a person holds (their staff role plus those the facility's
rules data grants): a person may do what any of their roles may, and sees what any of them sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from clinic.tokens import SCOPES
from rules.decision import Decision
from rules.derive import role_scope
from rules.model import Situation, StaffFacts
from rules.service import RulesService, default_service

FIELDS = (
    "name", "dob", "demographics", "phone", "time", "room", "clinician", "session_type", "group",
    "level_of_care", "phase", "needs", "authorization", "court_order", "consents", "contact",
    "notes", "no_show_risk", "audit",
)  # fmt: skip
"""Every field name the permissions pack may grant."""


Roles = str | Iterable[str]
"""One role, or every role a person holds."""


def _roles(roles: Roles) -> list[str]:
    return [roles] if isinstance(roles, str) else sorted(roles)


def may(roles: Roles, action: str, service: RulesService | None = None) -> Decision:
    """May someone with these roles ask for this action at all (before any patient is named)?"""
    service = service or default_service()
    first, *extra = _roles(roles) or ["unknown"]
    actor = StaffFacts(id=f"role:{first}", role=first, extra_roles=frozenset(extra))
    return service.evaluate(action, actor, Situation(tz=ZoneInfo("UTC"), now=datetime.now(UTC)))


def scope(roles: Roles, action: str, service: RulesService | None = None) -> str | None:
    """'all', 'own_caseload', or None when none of the roles may ask for the action."""
    service = service or default_service()
    return role_scope(_roles(roles), action, service.packs.tables)


def scope_allows(scope: str, action: str, service: RulesService | None = None) -> bool:
    """Does a credential's scope leave this action to the roles? `admin` leaves every action;
    an unknown scope leaves none."""
    if scope == "admin":
        return True
    if scope not in SCOPES:
        return False
    service = service or default_service()
    table = service.packs.tables.get("scopes", {})
    # Each scope adds to the narrower ones before it.
    return any(action in (table.get(s) or ()) for s in SCOPES[: SCOPES.index(scope) + 1])


def roles_granted(staff_id: str, service: RulesService | None = None) -> frozenset[str]:
    """The roles the facility's rules data gives a person beyond their staff role."""
    service = service or default_service()
    return frozenset(service.packs.data.roles.get(staff_id, frozenset()))


def roles_that_may(action: str, service: RulesService | None = None) -> frozenset[str]:
    """Every role of the pack that may ask for the action for any patient (scope 'all')."""
    service = service or default_service()
    table = service.packs.tables.get("roles", {})
    return frozenset(r for r in table if role_scope([r], action, service.packs.tables) == "all")


def visible_fields(
    roles: Roles, relation_to_patient: str, service: RulesService | None = None
) -> set[str]:
    """Fields of a patient's record the roles may see; unknown roles or relations see nothing."""
    service = service or default_service()
    table = service.packs.tables.get("roles", {})
    key = "own" if relation_to_patient == "own" else "other"
    fields: set[str] = set()
    for role in _roles(roles):
        fields |= set(((table.get(role) or {}).get("fields") or {}).get(key, ()))
    return fields


def redact(record: dict[str, object], roles: Roles, relation_to_patient: str) -> dict[str, object]:
    """The record with only the fields the roles may see (keys outside FIELDS are kept)."""
    allowed = visible_fields(roles, relation_to_patient)
    return {k: v for k, v in record.items() if k not in FIELDS or k in allowed}
