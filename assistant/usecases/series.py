"""Recurring series: "book Jamie with Dana every Tuesday at 2 pm for 8 weeks", then move or
cancel this occurrence, this and the following ones, or all of them.

Every occurrence goes through the booking service exactly as a single booking does (the hard
checks of clinic.placement, the rule packs through the policy hook, the audit event), one after
the other in ONE transaction, each in a savepoint: the units an earlier week takes count against
the later ones (AUTH-UNITS reads the session), and a week that fails is rolled back alone so the
rest can still be checked. All or nothing by default: when any week fails, nothing is written and
every failing week is named with its reason; `skip_failing` books the others. Changes and
cancellations go through the booking service too, and each patient gets ONE notice for the whole
change of the series (assistant.usecases.notices.tell_patients).
"""

from __future__ import annotations

import difflib
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.access import authorize, session_fields
from assistant.usecases.appointments import authorize_for_patients
from assistant.usecases.notices import tell_patients, who_to_tell
from assistant.wiring import booking_service
from clinic.audit import append_event
from clinic.booking import AppointmentView, BookingRequest, BookingService, view_of
from clinic.db import Database
from clinic.errors import BookingConflict, InvalidInput, NotFound, RotaError, RuleViolation
from clinic.models import SCHEDULED_STATUSES, Appointment, Series, SeriesOccurrence
from clinic.queries import facility_zone_name
from clinic.timeutil import WEEKDAYS, at_local, local_iso, now_utc, parse_hhmm, zone
from clinic.tokens import Caller

MAX_OCCURRENCES = 52
"""A year of weekly sessions: longer than any authorization, so a longer series is a typo."""
Scope = Literal["this", "following", "all"]
SCOPES: tuple[str, ...] = ("this", "following", "all")
_DAY_NAMES = {
    "monday": "mon",
    "tuesday": "tue",
    "tues": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "thur": "thu",
    "thurs": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


# -- commands -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookSeries:
    patient: str
    staff: str
    session_type: str
    weekday: str
    """mon … sun (or the day's name: "tuesday")."""
    time: str
    """Facility-local HH:MM."""
    count: int | None = None
    until: date | None = None
    """The last day a session may fall on (inclusive); with `count`, whichever comes first."""
    first_day: date | None = None
    """The series starts on the first `weekday` on or after this day (default: today, when the
    time is still ahead, else the next one)."""
    room: str | None = None
    minutes: int | None = None
    skip_failing: bool = False
    reason: str | None = None
    override_reason: str | None = None
    dry_run: bool = False
    """Check every week and write nothing (the chat's confirmation step)."""


@dataclass(frozen=True)
class ChangeSeries:
    """Move occurrences of a series: to another time of day, weekday or clinician."""

    series_id: str
    scope: Scope
    reason: str
    occurrence: int | None = None
    """The 1-based occurrence "this" and "following" start from (default: the next one)."""
    time: str | None = None
    weekday: str | None = None
    staff: str | None = None
    override_reason: str | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class CancelSeries:
    series_id: str
    scope: Scope
    reason: str
    occurrence: int | None = None
    override_reason: str | None = None
    dry_run: bool = False


# -- answers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekProblem:
    """One week that cannot be booked or changed, and why."""

    position: int
    day: date
    message: str
    rules: tuple[str, ...] = ()
    kind: str = "conflict"  # conflict | rule | invalid

    def words(self) -> str:
        """ "Tue 15 Dec: Dana Reyes (c1) is unavailable at … (leave)" (rule ids in brackets)."""
        unsaid = [r for r in self.rules if r not in self.message]
        rules = f" ({', '.join(unsaid)})" if unsaid else ""
        return f"{self.day:%a %d %b}: {self.message}{rules}"

    def as_record(self) -> dict[str, Any]:
        return {
            "occurrence": self.position,
            "day": self.day.isoformat(),
            "message": self.message,
            "rules": list(self.rules),
            "kind": self.kind,
            "words": self.words(),
        }


@dataclass(frozen=True)
class SeriesOutcome:
    """What a series request did: `done` the appointments booked, moved or cancelled (none
    when it was refused or only checked), `failed` every week that could not be, `days` every
    day the request covered, and `series` the series as it is now (None when none was made)."""

    days: list[date]
    done: list[AppointmentView] = field(default_factory=list)
    failed: list[WeekProblem] = field(default_factory=list)
    series: dict[str, Any] | None = None
    written: bool = False
    notices: dict[str, str] = field(default_factory=dict)
    """Each patient's one notice of the change (queued, refused, no_channel …)."""
    notify: list[dict[str, Any]] = field(default_factory=list)
    """Who must be told (notices.who_to_tell): each clinician whose days changed, and each
    patient, once for the whole change."""

    @property
    def refused(self) -> bool:
        """Nothing was written because some week failed (all or nothing)."""
        return bool(self.failed) and not self.written

    def as_record(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "written": self.written,
            "days": [d.isoformat() for d in self.days],
            "appointments": [a.as_record() for a in self.done],
            "failed": [f.as_record() for f in self.failed],
            "notices": self.notices,
            "notify": self.notify,
        }


class _Rollback(Exception):
    """Leave the transaction without writing (a refused or checked-only series)."""


# -- reading the request ------------------------------------------------------------------------


def weekday_code(text: str) -> str:
    """ "tue", "Tuesday", "tues" → "tue"; a typo is InvalidInput naming the days it could be."""
    word = (text or "").strip().lower().rstrip(".")
    if word in WEEKDAYS:
        return word
    if word in _DAY_NAMES:
        return _DAY_NAMES[word]
    if word.endswith("s") and word[:-1] in _DAY_NAMES:
        return _DAY_NAMES[word[:-1]]
    close = difflib.get_close_matches(word, [*_DAY_NAMES, *WEEKDAYS], n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise InvalidInput(
        f"weekday: {text!r} is not a day of the week{hint}; use mon, tue, wed, thu, fri, sat "
        "or sun",
        [f"weekday: {text!r} is not a day of the week{hint}"],
    )


def _clock(text: str) -> str:
    try:
        minutes = parse_hhmm(text)
    except ValueError:
        minutes = -1
    if not 0 <= minutes < 24 * 60 or len(text.split(":")[1]) != 2:
        raise InvalidInput(
            f"time: {text!r} is not a time of day; use HH:MM, e.g. 14:00",
            [f"time: {text!r} is not HH:MM"],
        )
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def occurrence_days(
    weekday: str,
    time: str,
    *,
    count: int | None,
    until: date | None,
    first_day: date | None,
    now: datetime,
    tz: ZoneInfo,
) -> list[date]:
    """The days of a weekly series, checked: 1–52 sessions, a count or an end day."""
    day_code, clock = weekday_code(weekday), _clock(time)
    if count is None and until is None:
        raise InvalidInput(
            "a series needs a number of weeks (count) or a last day (until)",
            ["count: give a number of sessions, or until: a last day"],
        )
    if count is not None and not 1 <= count <= MAX_OCCURRENCES:
        raise InvalidInput(
            f"count: a series has 1 to {MAX_OCCURRENCES} sessions, not {count}",
            [f"count: must be between 1 and {MAX_OCCURRENCES}, not {count}"],
        )
    today = now.astimezone(tz).date()
    start = first_day or today
    offset = (WEEKDAYS.index(day_code) - start.weekday()) % 7
    first = start + timedelta(days=offset)
    if at_local(first, parse_hhmm(clock), tz) <= now:
        first += timedelta(days=7)  # today's time has passed: the series starts next week
    if until is not None and until < first:
        raise InvalidInput(
            f"until: {until.isoformat()} is before the first session ({first:%a %d %b %Y})",
            [f"until: {until.isoformat()} is before the first session"],
        )
    days: list[date] = []
    day = first
    while (count is None or len(days) < count) and (until is None or day <= until):
        days.append(day)
        day += timedelta(days=7)
        if len(days) > MAX_OCCURRENCES:
            raise InvalidInput(
                f"until: a series has at most {MAX_OCCURRENCES} sessions; "
                f"{until} is further away than that",
                [f"until: more than {MAX_OCCURRENCES} weekly sessions"],
            )
    return days


def _problem(position: int, day: date, exc: RotaError) -> WeekProblem:
    if isinstance(exc, RuleViolation):
        fired = getattr(exc.decision, "fired", None) or []
        ids = tuple(r["id"] for r in fired if r.get("severity") in {"deny", "require_override"})
        return WeekProblem(position, day, str(exc), ids, "rule")
    kind = "conflict" if isinstance(exc, BookingConflict) else "invalid"
    return WeekProblem(position, day, str(exc), (), kind)


# -- book ---------------------------------------------------------------------------------------


def book_series(db: Database, caller: Caller, cmd: BookSeries) -> SeriesOutcome:
    """Check every week through the booking service in one transaction; book them all (or, with
    `skip_failing`, those that fit), or nothing and every failing week with its reason."""
    authorize_for_patients(db, caller, "book", [cmd.patient])
    tz = db.facility_tz()
    now = now_utc()
    days = occurrence_days(
        cmd.weekday,
        cmd.time,
        count=cmd.count,
        until=cmd.until,
        first_day=cmd.first_day,
        now=now,
        tz=tz,
    )
    weekday, clock = weekday_code(cmd.weekday), _clock(cmd.time)
    booked: list[tuple[int, AppointmentView]] = []
    failed: list[WeekProblem] = []
    record: dict[str, Any] | None = None
    try:
        with db.session() as session:
            service = booking_service(db, session)
            for position, day in enumerate(days, start=1):
                request = BookingRequest(
                    session_type=cmd.session_type,
                    start=at_local(day, parse_hhmm(clock), tz),
                    staff=[cmd.staff],
                    patients=[cmd.patient],
                    room=cmd.room,
                    minutes=cmd.minutes,
                )
                try:
                    with session.begin_nested():
                        view = service.book(
                            caller.staff_id,
                            request,
                            reason=cmd.reason or "recurring series",
                            override_reason=cmd.override_reason,
                        )
                    booked.append((position, view))
                except (BookingConflict, RuleViolation) as exc:
                    failed.append(_problem(position, day, exc))
                # NotFound and InvalidInput (an unknown clinician, a time off the grid) are the
                # same for every week: the request itself is wrong, and says so.
            if cmd.dry_run or not booked or (failed and not cmd.skip_failing):
                raise _Rollback
            row = Series(
                id=f"ser-{uuid.uuid4().hex[:10]}",
                patient_id=cmd.patient,
                staff_id=cmd.staff,
                session_type_id=cmd.session_type,
                weekday=weekday,
                time=clock,
                minutes=cmd.minutes,
                room_id=cmd.room,
                count=cmd.count,
                until=cmd.until,
                status="active",
                created_at=now,
                created_by=caller.staff_id,
            )
            session.add(row)
            session.flush()
            for position, view in booked:
                session.add(
                    SeriesOccurrence(series_id=row.id, position=position, appointment_id=view.id)
                )
            session.flush()
            record = _record(session, row)
            append_event(
                session,
                actor=caller.staff_id,
                action="series.book",
                entity_type="series",
                entity_id=row.id,
                after=record,
                reason=cmd.reason or "recurring series",
                decision={"skipped": [f.as_record() for f in failed]} if failed else None,
                at=now,
            )
    except _Rollback:
        return SeriesOutcome(days, [], failed, None, written=False)
    return SeriesOutcome(days, [v for _, v in booked], failed, record, written=True)


# -- read ---------------------------------------------------------------------------------------


def show_series(db: Database, caller: Caller, series_id: str) -> dict[str, Any]:
    """The series: its pattern and each occurrence (position, appointment, start, status)."""
    with db.read() as session:
        row = _get(session, series_id)
        authorize(db, caller, "patient_schedule", patient_id=row.patient_id)
        return shown_to(caller, _record(session, row))


def find_series(
    db: Database,
    caller: Caller,
    patient: str,
    *,
    staff: str | None = None,
    weekday: str | None = None,
) -> list[dict[str, Any]]:
    """A patient's active series, narrowed to one clinician and weekday when given."""
    authorize(db, caller, "patient_schedule", patient_id=patient)
    day = weekday_code(weekday) if weekday else None
    with db.read() as session:
        query = select(Series).where(Series.patient_id == patient, Series.status == "active")
        if staff:
            query = query.where(Series.staff_id == staff)
        if day:
            query = query.where(Series.weekday == day)
        rows = session.scalars(query.order_by(Series.created_at)).all()
        return [shown_to(caller, _record(session, row)) for row in rows]


def shown_to(caller: Caller, record: dict[str, Any]) -> dict[str, Any]:
    """The series as the caller may see it: its session type only for whom the pack shows a
    session's type (its clinician; not the front desk), as the occurrences' appointments."""
    if "session_type" in session_fields(caller, [record["staff"]]):
        return record
    return {**record, "session_type": None}


def _get(session: Session, series_id: str) -> Series:
    row = session.get(Series, series_id)
    if row is None:
        raise NotFound(f"no series with id {series_id!r}")
    return row


def _record(session: Session, row: Series) -> dict[str, Any]:
    """The series as every door shows it (times facility-local, with their offset)."""
    tz = zone(facility_zone_name(session))
    occurrences = []
    for occ in row.occurrences:
        appointment = session.get(Appointment, occ.appointment_id)
        assert appointment is not None
        occurrences.append(
            {
                "occurrence": occ.position,
                "appointment": appointment.id,
                "start": local_iso(appointment.start, tz),
                "end": local_iso(appointment.end, tz),
                "staff": appointment.staff_ids,
                "room": appointment.room_id,
                "status": appointment.status,
            }
        )
    return {
        "id": row.id,
        "patient": row.patient_id,
        "staff": row.staff_id,
        "session_type": row.session_type_id,
        "weekday": row.weekday,
        "time": row.time,
        "minutes": row.minutes,
        "room": row.room_id,
        "count": row.count,
        "until": row.until.isoformat() if row.until else None,
        "status": row.status,
        "occurrences": occurrences,
    }


# -- change and cancel --------------------------------------------------------------------------


def _in_scope(
    session: Session, row: Series, scope: str, occurrence: int | None, now: datetime
) -> list[tuple[int, Appointment]]:
    """The occurrences a change reaches: still to come and still booked. "this" and
    "following" start at `occurrence` (default: the next one still to come)."""
    if scope not in SCOPES:
        raise InvalidInput(
            f"scope: {scope!r} is not one of {', '.join(SCOPES)}",
            [f"scope: must be one of {', '.join(SCOPES)}"],
        )
    pairs = []
    for occ in row.occurrences:
        appointment = session.get(Appointment, occ.appointment_id)
        assert appointment is not None
        pairs.append((occ.position, appointment))
    open_ = [
        (p, a) for p, a in pairs if a.active and a.status in SCHEDULED_STATUSES and a.start > now
    ]
    positions = [p for p, _ in pairs]
    if occurrence is not None and occurrence not in positions:
        raise InvalidInput(
            f"from: series {row.id} has no occurrence {occurrence} (it has "
            f"{min(positions)}–{max(positions)})"
            if positions
            else f"series {row.id} is empty",
            [f"from: no occurrence {occurrence}"],
        )
    if scope == "all":
        return open_
    start = occurrence if occurrence is not None else (open_[0][0] if open_ else None)
    if start is None:
        return []
    if scope == "this":
        chosen = [(p, a) for p, a in open_ if p == start]
        if not chosen:
            appointment = dict(pairs)[start]
            raise InvalidInput(
                f"occurrence {start} of series {row.id} is {appointment.status}"
                + (" and already past" if appointment.start <= now else "")
                + "; it cannot be changed"
            )
        return chosen
    return [(p, a) for p, a in open_ if p >= start]


def change_series(db: Database, caller: Caller, cmd: ChangeSeries) -> SeriesOutcome:
    """Move the occurrences in scope (time of day, weekday, clinician), all or nothing; every
    week that would not fit is named. Each patient is told once for the whole change."""
    if cmd.time is None and cmd.weekday is None and cmd.staff is None:
        raise InvalidInput(
            "say what changes: a new time, weekday or clinician",
            ["time, weekday or staff: at least one is needed"],
        )
    clock = _clock(cmd.time) if cmd.time else None
    day_code = weekday_code(cmd.weekday) if cmd.weekday else None
    tz, now = db.facility_tz(), now_utc()
    with db.read() as session:
        patient = _get(session, cmd.series_id).patient_id
    authorize_for_patients(db, caller, "move", [patient])
    moved: list[AppointmentView] = []
    failed: list[WeekProblem] = []
    days: list[date] = []
    try:
        with db.session() as session:
            row = _get(session, cmd.series_id)
            service = booking_service(db, session)
            moves = []
            for position, appointment in _in_scope(session, row, cmd.scope, cmd.occurrence, now):
                before = view_of(appointment)
                local = appointment.start.astimezone(tz)
                day = local.date()
                if day_code is not None:
                    day += timedelta(days=WEEKDAYS.index(day_code) - day.weekday())
                minutes = parse_hhmm(clock) if clock else local.hour * 60 + local.minute
                start = at_local(day, minutes, tz)
                days.append(day)
                if start <= now:
                    failed.append(
                        WeekProblem(position, day, "that time has already passed", (), "invalid")
                    )
                    continue
                try:
                    with session.begin_nested():
                        after = _move(service, caller, appointment.id, start, cmd)
                    moved.append(after)
                    moves.append(_notice_move(before, after.start, after.staff))
                except (BookingConflict, RuleViolation, InvalidInput) as exc:
                    failed.append(_problem(position, day, exc))
            if cmd.dry_run or failed or not moved:
                raise _Rollback
            if cmd.scope != "this":  # the pattern from here on
                row.time = clock or row.time
                row.weekday = day_code or row.weekday
                row.staff_id = cmd.staff or row.staff_id
            notices = tell_patients(
                session, moves, change=_change_key(row.id, "move", moved), now=now
            )
            notify = who_to_tell(session, moves)
            record = _record(session, row)
            append_event(
                session,
                actor=caller.staff_id,
                action="series.move",
                entity_type="series",
                entity_id=row.id,
                after={**record, "scope": cmd.scope, "moved": [a.id for a in moved]},
                reason=cmd.reason,
                at=now,
            )
    except _Rollback:
        return SeriesOutcome(days, moved if cmd.dry_run and not failed else [], failed)
    return SeriesOutcome(days, moved, [], record, True, notices, notify)


def _move(
    service: BookingService,
    caller: Caller,
    appointment_id: str,
    start: datetime,
    cmd: ChangeSeries,
) -> AppointmentView:
    return service.move(
        caller.staff_id,
        appointment_id,
        start=start,
        staff=[cmd.staff] if cmd.staff else None,
        reason=cmd.reason,
        override_reason=cmd.override_reason,
    )


def cancel_series(db: Database, caller: Caller, cmd: CancelSeries) -> SeriesOutcome:
    """Cancel the occurrences in scope through the booking service, in one transaction; each
    patient is told once. Cancelling every occurrence still to come ends the series."""
    if not (cmd.reason or "").strip():
        raise InvalidInput("a cancellation needs a reason (e.g. --reason 'patient discharged')")
    now = now_utc()
    tz = db.facility_tz()
    with db.read() as session:
        patient = _get(session, cmd.series_id).patient_id
    authorize_for_patients(db, caller, "cancel", [patient])
    cancelled: list[AppointmentView] = []
    days: list[date] = []
    try:
        with db.session() as session:
            row = _get(session, cmd.series_id)
            service = booking_service(db, session)
            moves = []
            chosen = _in_scope(session, row, cmd.scope, cmd.occurrence, now)
            for _, appointment in chosen:
                before = view_of(appointment)
                days.append(appointment.start.astimezone(tz).date())
                cancelled.append(
                    service.cancel(
                        caller.staff_id,
                        appointment.id,
                        reason=cmd.reason,
                        override_reason=cmd.override_reason,
                    )
                )
                moves.append(_notice_move(before, None, []))
            if cmd.dry_run or not cancelled:
                raise _Rollback
            left = _in_scope(session, row, "all", None, now)
            if not left:
                row.status = "cancelled"
            notices = tell_patients(
                session, moves, change=_change_key(row.id, "cancel", cancelled), now=now
            )
            notify = who_to_tell(session, moves, patient_kind="sessions_cancelled")
            record = _record(session, row)
            append_event(
                session,
                actor=caller.staff_id,
                action="series.cancel",
                entity_type="series",
                entity_id=row.id,
                after={**record, "scope": cmd.scope, "cancelled": [a.id for a in cancelled]},
                reason=cmd.reason,
                at=now,
            )
    except _Rollback:
        return SeriesOutcome(days, cancelled if cmd.dry_run else [], [])
    return SeriesOutcome(days, cancelled, [], record, True, notices, notify)


def _notice_move(
    before: AppointmentView, start: datetime | None, staff: Iterable[str]
) -> dict[str, Any]:
    """One change in the shape notices.who_to_tell and tell_patients read."""
    return {
        "appointment": before.id,
        "before": {"staff": before.staff, "start": before.start, "patients": before.patients},
        "after": {"staff": list(staff), "start": start},
    }


def _change_key(series_id: str, what: str, done: list[AppointmentView]) -> str:
    """What keys the patients' one notice for this change: the series, and each appointment
    with where it went (the same change retried tells nobody twice)."""
    text = ";".join(sorted(f"{a.id}@{a.start.isoformat()}:{a.status}" for a in done))
    return f"series:{series_id}:{what}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"
