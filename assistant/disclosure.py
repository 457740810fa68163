"""Every disclosure, judged in one place: something about a patient is about to leave Rota.

A Slack message, an email or SMS to a family member or the patient, a court report, a model
prompt: each is a `Disclose` command. The consent pack's PRIV rules (for a court report, the
court pack's CRT-REPORT rules) judge it through the rules engine, like every booking; a refusal
is raised with the rule's words; every judgment is written to the audit log (who, to whom,
over which channel, which patients, the decision; never the content itself).

The action says whose act it is: `disclose` when the sender passes information to someone else;
`view_schedule` or `view_clinical` when the answer goes back to the person who asked (their own
look-up, which the PRIV rules judge too); `send_court_report` for a court or probation officer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from assistant import callers
from clinic import access_log
from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput, PermissionDenied, RuleViolation
from rules.decision import Decision
from rules.facts import build_situation
from rules.model import Disclosure, Situation, StaffFacts
from rules.policy import to_policy_decision
from rules.service import RulesService, default_service

CHANNELS = (
    "public_channel", "private_channel", "shared_channel", "dm", "email", "sms", "court_report",
    "llm", "ehr",
)  # fmt: skip
RECIPIENTS = (
    "workforce", "patient", "family", "court", "probation", "payer", "other_provider",
    "llm_vendor", "public",
)  # fmt: skip
CONTENTS = ("minimal", "schedule", "attendance", "clinical")
ACTIONS = ("disclose", "view_schedule", "view_clinical", "send_court_report")


@dataclass(frozen=True)
class Disclose:
    """One message, report or prompt about `patients` (none: nothing about anyone in particular,
    such as a de-identified prompt), from `actor` to a recipient over a channel."""

    actor: str
    channel: str
    recipient: str
    patients: tuple[str, ...] = ()
    content: str = "schedule"
    recipient_staff: str | None = None
    recipient_name: str | None = None
    identifies_patient: bool = True
    vendor_baa: bool = False
    deidentified: bool = False
    action: str = "disclose"
    purpose: str = ""

    def check(self) -> None:
        for value, allowed, what in (
            (self.channel, CHANNELS, "channel"),
            (self.recipient, RECIPIENTS, "recipient"),
            (self.content, CONTENTS, "content"),
            (self.action, ACTIONS, "action"),
        ):
            if value not in allowed:
                raise InvalidInput(f"unknown {what} {value!r}; use one of {', '.join(allowed)}")

    def about(self, patient: str | None) -> Disclosure:
        """The rules' fact for one patient of the message (its fields are this command's)."""
        shared = {f.name: getattr(self, f.name) for f in fields(Disclosure) if f.name != "patient"}
        return Disclosure(patient=patient, **shared)

    def record(self) -> dict[str, Any]:
        """What the audit log keeps: everything but the purpose (that is the event's reason)."""
        out = asdict(self)
        out.pop("purpose")
        out["patients"] = list(self.patients)
        return out


def judge(
    cmd: Disclose,
    session: Session | None,
    *,
    service: RulesService | None = None,
    now: datetime | None = None,
) -> Decision:
    """The rules' verdict on one disclosure (nothing written). Without a database session only
    a disclosure about no particular patient can be judged (the actor's roles come from the
    packs' data)."""
    cmd.check()
    service = service or default_service()
    decisions = []
    for patient in cmd.patients or (None,):
        disclosure = cmd.about(patient)
        if session is None:
            if patient is not None:
                raise ValueError("a disclosure about a patient is judged against the database")
            actor, situation = _without_database(service, cmd.actor, disclosure, now)
        else:
            actor, situation = build_situation(
                session,
                service.packs,
                actor=cmd.actor,
                patient=patient if cmd.action == "send_court_report" else None,
                disclosure=disclosure,
                now=now,
            )
        decisions.append(service.evaluate(cmd.action, actor, situation))
    return merge(decisions)


def disclose(
    db: Database,
    cmd: Disclose,
    *,
    service: RulesService | None = None,
    now: datetime | None = None,
) -> Decision:
    """Judge, audit, and raise when refused (PermissionDenied for a role that may not send it,
    RuleViolation for a privacy rule); the allowed decision carries the obligations (a
    redisclosure notice to attach)."""
    with db.read() as session:
        decision = judge(cmd, session, service=service, now=now)
    with db.session() as session:
        append_event(
            session,
            actor=cmd.actor,
            action="disclosure" if decision.allowed else "disclosure.refused",
            entity_type="patient",
            entity_id=",".join(cmd.patients) or None,
            after=cmd.record(),
            reason=cmd.purpose or None,
            decision=to_policy_decision(decision).as_record(),  # as every booking's
        )
    raise_if_refused(decision)
    if cmd.channel == "dm" and cmd.recipient_staff and cmd.patients:
        _record_dm(db, cmd)
    return decision


def _record_dm(db: Database, cmd: Disclose) -> None:
    """A direct message naming patients is its recipient's read of them (the access log)."""
    reader = callers.for_actor(db, cmd.recipient_staff or "unknown", door="slack")
    detail = {"sender": cmd.actor, "content": cmd.content}
    access_log.record_reads(db, reader, access_log.SLACK_DM, cmd.patients, detail=detail)


def raise_if_refused(decision: Decision) -> None:
    if decision.allowed:
        return
    message = decision.message.removeprefix("Not allowed. ").rstrip(".")
    if all(f.id.startswith("PERM-") for f in decision.blocking):
        raise PermissionDenied(message)
    raise RuleViolation(message, decision=decision)


def merge(decisions: Sequence[Decision]) -> Decision:
    """One decision for a disclosure about several patients: refused if any one is."""
    if len(decisions) == 1:
        return decisions[0]
    fired = tuple({(f.id, f.message): f for d in decisions for f in d.fired}.values())
    refused = [d for d in decisions if not d.allowed]
    return Decision(
        allowed=not refused,
        fired=fired,
        obligations=tuple(dict.fromkeys(o for d in decisions for o in d.obligations)),
        message=" ".join(dict.fromkeys(d.message for d in refused)) if refused else "Allowed.",
        action=decisions[0].action,
    )


def _without_database(
    service: RulesService, actor_id: str, disclosure: Disclosure, now: datetime | None
) -> tuple[StaffFacts, Situation]:
    roles = service.packs.data.roles.get(actor_id, frozenset())
    actor = StaffFacts(id=actor_id, role="unknown", extra_roles=roles)
    return actor, Situation(tz=ZoneInfo("UTC"), now=now or datetime.now(UTC), disclosure=disclosure)
