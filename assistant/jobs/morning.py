"""The morning cycle (default 06:00 local): plan the open demand of the coming days as a
proposal, build the exception report, and deliver it — the report to the clinical director,
each clinician's own agenda for the day — once per facility and local day.

Once: the engines claim the run per local day in `job_run` (assistant.jobs.run_job), so a second
worker never starts it. Inside, everything the run writes (the proposal, the messages owed in
the one outbox — Slack DMs under `job:morning:<local day>:<n>`, the email report — and
its audit event keyed `job:morning:<local day>`) is one transaction, and a run that finds that
event writes nothing: a retry after a crash that happened once the work was committed (the run
taken over when its lease passed) sends nothing twice. The solver and the report run before
and only read, so a crash in the middle loses nothing and leaves nothing half-done.

Settings: ROTA_MORNING_SECONDS (solver time, default 20), ROTA_MORNING_DAYS (business days
after today to plan, default 2), ROTA_MORNING_APPLY=1 (book the plan at once instead of
proposing it; off by default: nothing moves without an approver).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from assistant import callers, morning_report, outbox
from assistant.jobs import job
from assistant.optimize import SYSTEM_ACTOR, optimize_period
from assistant.outbox import SlackMessage
from assistant.usecases import morning_plan, records
from assistant.usecases.absences import store_proposal
from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import SCHEDULED_STATUSES, Appointment, AuditEvent, Staff
from clinic.timeutil import BUSINESS_WEEKDAYS, day_bounds, now_utc
from clinic.tokens import Caller
from solver.settings import SolverSettings

NAME = "morning"
DIRECTOR_ROLE = "clinical_director"
PREVIEW_REPORT = "Rota: this morning's report."
PREVIEW_AGENDA = "Rota: your sessions today."
"""What notifications show: no patient detail."""
BLOCK_CHARS, MAX_BLOCKS = 2900, 50


@dataclass(frozen=True)
class Settings:
    seconds: float = 20.0
    days: int = 2
    apply: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        try:
            seconds = float(os.environ.get("ROTA_MORNING_SECONDS") or 20)
            days = int(os.environ.get("ROTA_MORNING_DAYS") or 2)
        except ValueError as exc:
            raise InvalidInput(f"ROTA_MORNING_SECONDS / ROTA_MORNING_DAYS: {exc}") from exc
        if seconds <= 0 or days < 0:
            raise InvalidInput("ROTA_MORNING_SECONDS must be positive, ROTA_MORNING_DAYS >= 0")
        return cls(seconds, days, os.environ.get("ROTA_MORNING_APPLY") == "1")


def claim_key(day: date) -> str:
    return f"job:{NAME}:{day.isoformat()}"


@job(NAME, daily_at="06:00", queue="solver")  # holds a worker for its solve
def run(db: Database, now: datetime, settings: Settings | None = None) -> dict[str, Any]:
    """Plan the coming days as a proposal, then DM the morning report and each agenda.

    Returns what it did for the local day of `now`, or that the day's run already happened."""
    settings = settings or Settings.from_env()
    tz = db.facility_tz()
    day = now.astimezone(tz).date()
    key = claim_key(day)
    with db.read() as session:
        done = _claimed(session, key)
    if done:
        return {"job": NAME, "day": day.isoformat(), "skipped": "already ran for this day"}
    began = time.perf_counter()
    proposal = plan(db, now, settings)
    planned = time.perf_counter() - began
    # The report goes to the clinical director alone (deliveries): with the audit log's
    # sections (emergency access since yesterday).
    report = morning_report.build(
        db, now, unplaced=proposal["unmet"] if proposal else None, audit=True
    )
    built = time.perf_counter() - began - planned
    messages = deliveries(db, report, now)
    users = callers.slack_users(db, sorted({m.staff for m in messages}))
    with db.session() as session:
        if _claimed(session, key):  # a run for this day committed while we planned
            return {"job": NAME, "day": day.isoformat(), "skipped": "already ran for this day"}
        proposal_id, booked = None, 0
        system = Caller(SYSTEM_ACTOR, SYSTEM_ACTOR, "system", door="job")
        if proposal and proposal["bookings"]:
            if settings.apply:  # the facility opted in: book it now, all or nothing
                booked = morning_plan.book_in(
                    db, session, SYSTEM_ACTOR, proposal, f"morning plan {day}"
                )
            else:
                proposal_id = store_proposal(
                    session, system, morning_plan.KIND, proposal, staff=None
                )
        planned_n = len(proposal["bookings"]) if proposal else 0
        outgoing = slack_messages(with_plan(messages, proposal_id, planned_n), users)
        outbox.owe_slack(session, key, outgoing, now_utc())
        emailed = email_report(session, messages, key, now)
        counts = {k: v["count"] for k, v in report["sections"].items()}
        append_event(
            session,
            actor=SYSTEM_ACTOR,
            action="job.morning",
            entity_type="job",
            entity_id=key,
            after={"proposal": proposal_id, "booked": booked, "counts": counts},
        )
    return {
        "job": NAME,
        "day": day.isoformat(),
        "proposal": proposal_id,
        "booked": booked,
        "planned": planned_n,
        "counts": counts,
        "messages": len(outgoing),
        "not_on_slack": sorted({m.staff for m in messages if m.staff not in users}),
        "emailed": emailed,
        "seconds": {"plan": round(planned, 2), "report": round(built, 2)},
    }


# --- plan ------------------------------------------------------------------------------------


def plan(db: Database, now: datetime, settings: Settings) -> dict[str, Any] | None:
    """The open demand from `now` to the end of the `settings.days`-th business day after
    today, placed by the solver within `settings.seconds`; None when the facility is closed."""
    tz = db.facility_tz()
    today = now.astimezone(tz).date()
    last = today
    for _ in range(settings.days):
        last += timedelta(days=1)
        while last.weekday() >= BUSINESS_WEEKDAYS:
            last += timedelta(days=1)
    _, end = day_bounds(last, tz)
    solver = replace(SolverSettings.from_env(), time_limit=settings.seconds)
    try:
        result, built = optimize_period(db, now, end, solver, holds_at=now)
    except InvalidInput:  # the facility is not open in that period
        return None
    return morning_plan.payload(result, built, today.isoformat())


# --- delivery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One message to one staff member; `patients`/`appointments`: what it discloses (audited
    when sent, never the words)."""

    staff: str
    text: str
    patients: tuple[str, ...]
    appointments: tuple[str, ...]
    report: bool = False
    """The director's report (else a clinician's agenda)."""


def deliveries(db: Database, report: dict[str, Any], now: datetime) -> list[Message]:
    """The director's report (first) and each clinician's agenda, one message each."""
    wanted = []
    director = callers.with_role(db, DIRECTOR_ROLE)
    names = records.names(db)
    if director is not None:
        wanted.append(
            Message(
                director.staff_id,
                morning_report.text(report, names),
                tuple(sorted(morning_report.patients_in(report))),
                tuple(sorted(morning_report.appointments_in(report))),
                report=True,
            )
        )
    return wanted + agendas(db, now, names)


def with_plan(messages: list[Message], proposal_id: str | None, planned: int) -> list[Message]:
    """The director's report says what the morning plan proposes and how to apply it."""
    if proposal_id is None:
        return messages
    note = (
        f"\nMorning plan {proposal_id}: {planned} session(s) proposed, nothing booked yet. "
        f"Reply 'apply {proposal_id}' to book them all, or 'reject {proposal_id}'."
    )
    return [replace(m, text=m.text + note) if m.report else m for m in messages]


def slack_messages(messages: list[Message], users: dict[str, str]) -> list[SlackMessage]:
    """Slack DMs for those on Slack: a neutral preview (lock screens show it), the words in
    blocks (Slack's limits: 3,000 characters a block, 50 blocks), and what each discloses."""
    return [
        SlackMessage(
            "chat.postMessage",
            users[m.staff],
            None,
            {"text": PREVIEW_REPORT if m.report else PREVIEW_AGENDA, "blocks": _blocks(m.text)},
            {
                "recipient": m.staff,
                "channel_type": "im",
                "patients": list(m.patients),
                "appointments": list(m.appointments),
            },
            template="morning_report" if m.report else "morning_agenda",
        )
        for m in messages
        if m.staff in users
    ]


def _blocks(text: str) -> list[dict[str, Any]]:
    chunks: list[str] = []
    for line in text.split("\n"):
        if chunks and len(chunks[-1]) + len(line) + 1 <= BLOCK_CHARS:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line[:BLOCK_CHARS])
    if len(chunks) > MAX_BLOCKS:
        chunks = [*chunks[: MAX_BLOCKS - 1], "… more in `rota morning` (the full report)"]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]


def agendas(db: Database, now: datetime, names: dict[str, str]) -> list[Message]:
    """Each clinician's own sessions of the day (minimum necessary: no one else's)."""
    tz = db.facility_tz()
    today = now.astimezone(tz).date()
    start, end = day_bounds(today, tz)
    mine: dict[str, list[Appointment]] = {}
    with db.read() as session:
        rows = session.scalars(
            select(Appointment)
            .where(
                Appointment.start >= start,
                Appointment.start < end,
                Appointment.status.in_(SCHEDULED_STATUSES),
            )
            .order_by(Appointment.start, Appointment.id)
            .options(selectinload(Appointment.staff_links), selectinload(Appointment.patient_links))
        ).all()
        for a in rows:
            for sid in a.staff_ids:
                mine.setdefault(sid, []).append(a)
        out = []
        for sid, sessions in sorted(mine.items()):
            lines = [f"Your sessions on {today:%A %d %b}: {len(sessions)}"]
            for a in sessions:
                who = ", ".join(names.get(p, p) for p in a.patient_ids)
                room = f" in {names.get(a.room_id, a.room_id)}" if a.room_id else ""
                lines.append(
                    f"• {a.start.astimezone(tz):%H:%M}–{a.end.astimezone(tz):%H:%M} "
                    f"{a.session_type_id}{room}: {who}"
                )
            out.append(
                Message(
                    sid,
                    "\n".join(lines),
                    tuple(sorted({p for a in sessions for p in a.patient_ids})),
                    tuple(a.id for a in sessions),
                )
            )
    return out


# --- the marker and the messages owed -----------------------------------------------------------


def _claimed(session: Session, key: str) -> bool:
    """Whether a run for this key committed its work (its audit event is written with it)."""
    seen = session.scalar(
        select(AuditEvent.seq)
        .where(AuditEvent.entity_id == key, AuditEvent.action == f"job.{NAME}")
        .limit(1)
    )
    return seen is not None


def email_report(session: Session, messages: list[Message], key: str, now: datetime) -> int:
    """The director's report by email too (when they have an address), owed in this same
    transaction through the one outbox, so it is sent exactly once. Returns how many."""
    owed = 0
    for m in messages:
        if not m.report:
            continue
        address = session.scalar(select(Staff.email).where(Staff.id == m.staff))
        if address and outbox.enqueue(
            session,
            channel="email",
            recipient=address,
            template="morning_report",
            context={"text": m.text, "day": key.rsplit(":", 1)[-1]},
            key=f"{key}:email:{m.staff}",
            appointment_ids=m.appointments,
            now=now,
        ):
            owed += 1
    return owed
