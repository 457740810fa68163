"""Minimum data kept (HIPAA minimum necessary; issue 19): what Rota no longer needs is deleted.

After the retention period (ROTA_RETENTION_DAYS, default 30) these go:
- conversation state not touched within the period (a conversation still in progress stays);
- outbox messages that were settled (sent, refused, dead) before the period: the words were
  dropped on sending, but the row still holds the recipient's full address. Each delivery,
  refusal and death is already in the audit log (masked recipient, patient, channel, template,
  appointments: assistant.outbox._audit), so the row adds nothing the record needs. Pending
  messages are still owed and stay;
- Slack requests answered (done, failed) before the period (the text was dropped on answering;
  the key only deduplicates Slack's retries, which come within minutes);
- patients' replies to reminders received before the period (the words were never kept; the
  answer is in the audit log as `patient.reply`);
- waitlist offers that ended (accepted, taken, declined, expired) before the period: who was
  offered which slot; the booking it led to is an appointment of its own;
- failed sign-ins (`auth_failure`) before the period: a lockout counts minutes, not months, and
  each lockout is a row of its own (`auth_lockout`, kept until it ends).
Cleared, the row kept (it still says what happened, by whom and when):
- the payload and outcome of proposals settled (applied, rejected, withdrawn) before the
  period: the moves and the patients they named; the decision is in the audit log;
- the error text of job runs that ended before the period (an exception's message may quote
  what it was working on); the run's status and summary stay.
As soon as they can no longer be used: web sessions ended, expired or idle past the policy, and
sign-in links used or expired.

NEVER purged: the audit log (`audit_event`) and the access log. HIPAA (45 CFR 164.316(b)(2))
keeps that documentation six years, and the audit log's hash chain breaks if a row goes. This
module names the tables it may delete from (`PURGED`) and the columns it may clear (`CLEARED`),
and touches no other.

Each real run writes one audit event `retention.purge` with the counts (never content).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, delete, func, null, or_, select, update
from sqlalchemy.orm import Session

from assistant.usecases.web_sign_in import policy as web_policy
from clinic.audit import append_event
from clinic.auth_models import AuthFailure
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.job_models import JobRun
from clinic.models import Base, ConversationState, Proposal
from clinic.outbox_models import OutboxMessage, PatientReply
from clinic.settings import whole_number
from clinic.slack_models import SlackInbox
from clinic.waitlist_models import WaitlistOffer
from clinic.web_models import SignInLink, WebSession

ACTOR = "rota-retention"
DAYS_ENV = "ROTA_RETENTION_DAYS"
DEFAULT_DAYS = 30
PURGED = (
    "conversation_state",
    "outbox_message",
    "slack_inbox",
    "patient_reply",
    "web_session",
    "sign_in_link",
    "waitlist_offer",
    "auth_failure",
)
"""Every table retention deletes from. The audit log and the access log are never among them."""
CLEARED = {"proposal_payload": "proposal", "job_run_error": "job_run"}
"""What retention empties in rows it keeps (kind → table)."""
NEVER_PURGED = ("audit_event", "access_event")


@dataclass(frozen=True)
class PurgeReport:
    """What a run removed (or, dry, would remove): rows per kind (a table it deletes from, or a
    kind it clears: `CLEARED`), and the cut-off used."""

    counts: dict[str, int]
    days: int
    cutoff: datetime
    dry_run: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def deleted(self) -> int:
        return sum(n for kind, n in self.counts.items() if kind not in CLEARED)

    @property
    def cleared(self) -> int:
        return sum(n for kind, n in self.counts.items() if kind in CLEARED)

    def as_record(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "days": self.days,
            "cutoff": self.cutoff.isoformat(),
            "counts": dict(self.counts),
            "total": self.total,
            "deleted": self.deleted,
            "cleared": self.cleared,
        }


def retention_days() -> int:
    """ROTA_RETENTION_DAYS, a whole number of days of at least 1 (default 30)."""
    return whole_number(DAYS_ENV, DEFAULT_DAYS, unit="days")


def purge(
    db: Database,
    now: datetime,
    *,
    days: int | None = None,
    dry_run: bool = False,
    actor: str = ACTOR,
) -> PurgeReport:
    """Delete what the retention policy no longer keeps, as of `now`, in one transaction; with
    `dry_run`, count it and change nothing (no audit event either)."""
    days = retention_days() if days is None else days
    if days < 1:
        raise InvalidInput("the retention period must be at least 1 day")
    cutoff = now - timedelta(days=days)
    idle = web_policy().idle
    targets = _targets(now, cutoff, idle)
    clears = _clears(cutoff)
    if dry_run:
        with db.read() as session:
            counts = _counts(session, targets, clears)
        return PurgeReport(counts, days, cutoff, dry_run=True)
    with db.session() as session:
        counts = _counts(session, targets, clears)
        for model, where in targets.values():
            session.execute(delete(model).where(where).execution_options(synchronize_session=False))
        for model, where, emptied in clears.values():
            session.execute(
                update(model)
                .where(where)
                .values(emptied)
                .execution_options(synchronize_session=False)
            )
        append_event(
            session,
            actor=actor,
            action="retention.purge",
            entity_type="retention",
            after={"days": days, "cutoff": cutoff.isoformat(), "counts": counts},
            reason=f"retention period {days} days ({DAYS_ENV})",
        )
    return PurgeReport(counts, days, cutoff, dry_run=False)


def _targets(
    now: datetime, cutoff: datetime, idle: timedelta
) -> dict[str, tuple[type[Base], ColumnElement[bool]]]:
    """Each purged table's model and the condition a row is deleted under."""
    settled = ("sent", "refused", "dead")
    targets: dict[str, tuple[type[Base], ColumnElement[bool]]] = {
        # updated within the period: a conversation still in progress is kept
        "conversation_state": (ConversationState, ConversationState.updated_at < cutoff),
        "outbox_message": (
            OutboxMessage,
            and_(
                OutboxMessage.status.in_(settled),
                OutboxMessage.created_at < cutoff,
                or_(OutboxMessage.sent_at.is_(None), OutboxMessage.sent_at < cutoff),
            ),
        ),
        "slack_inbox": (
            SlackInbox,
            and_(
                SlackInbox.status.in_(("done", "failed")),
                func.coalesce(SlackInbox.finished_at, SlackInbox.received_at) < cutoff,
            ),
        ),
        "patient_reply": (PatientReply, PatientReply.received_at < cutoff),
        # no use once over: ended, past the absolute expiry, or idle past the policy
        "web_session": (
            WebSession,
            or_(
                WebSession.ended_at.is_not(None),
                WebSession.expires_at <= now,
                WebSession.last_seen_at <= now - idle,
            ),
        ),
        "sign_in_link": (
            SignInLink,
            or_(SignInLink.used_at.is_not(None), SignInLink.expires_at <= now),
        ),
        "waitlist_offer": (WaitlistOffer, _offer_ended(cutoff)),
        "auth_failure": (AuthFailure, AuthFailure.at < cutoff),
    }
    assert tuple(targets) == PURGED and not set(targets) & set(NEVER_PURGED)
    return targets


def _offer_ended(cutoff: datetime) -> ColumnElement[bool]:
    """Decided before the cut-off, or never decided and expired before it."""
    return and_(
        or_(WaitlistOffer.status != "open", WaitlistOffer.expires_at < cutoff),
        func.coalesce(WaitlistOffer.decided_at, WaitlistOffer.expires_at) < cutoff,
    )


def _clears(
    cutoff: datetime,
) -> dict[str, tuple[type[Base], ColumnElement[bool], dict[str, Any]]]:
    """Each cleared kind's model, the rows it applies to (not yet cleared), and the values."""
    clears: dict[str, tuple[type[Base], ColumnElement[bool], dict[str, Any]]] = {
        "proposal_payload": (
            Proposal,
            and_(
                Proposal.status != "pending",
                func.coalesce(Proposal.decided_at, Proposal.created_at) < cutoff,
                # JSON has no equality on PostgreSQL; its text does, on both databases
                or_(cast(Proposal.payload, Text) != "{}", Proposal.outcome.is_not(None)),
            ),
            {"payload": {}, "outcome": null()},  # SQL NULL, not JSON null
        ),
        "job_run_error": (
            JobRun,
            and_(
                JobRun.error.is_not(None),
                JobRun.status != "started",
                func.coalesce(JobRun.finished_at, JobRun.started_at) < cutoff,
            ),
            {"error": None},
        ),
    }
    assert {k: c[0].__tablename__ for k, c in clears.items()} == CLEARED
    return clears


def _counts(
    session: Session,
    targets: dict[str, tuple[type[Base], ColumnElement[bool]]],
    clears: dict[str, tuple[type[Base], ColumnElement[bool], dict[str, Any]]],
) -> dict[str, int]:
    counts = {kind: _count(session, model, where) for kind, (model, where) in targets.items()}
    counts |= {kind: _count(session, model, where) for kind, (model, where, _) in clears.items()}
    return counts


def _count(session: Session, model: type[Base], where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(where)) or 0)
