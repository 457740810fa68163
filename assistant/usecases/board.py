"""The day's board for a caller: clinicians (or rooms) as rows, the facility's opening hours as
the time axis, the day's sessions as blocks, absences and closures as bands.

One read transaction, a handful of queries, whatever the size of the day: the board is the page
people leave open all day, and it is re-read each time someone else books. What each block
shows is what the permissions pack lets the caller see of that session
(`assistant.access.redact_for`: a front desk sees times, rooms and names; a clinician sees their
own sessions in full and only times, rooms and clinicians of others').
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.access import authorize, redact_for
from clinic import access_log
from clinic.booking import AppointmentView
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import (
    Facility,
    FacilityClosure,
    Group,
    Patient,
    Room,
    RoomUnavailability,
    SessionType,
    Staff,
    StaffUnavailability,
)
from clinic.queries import appointments_between
from clinic.timeutil import WEEKDAYS, day_bounds, now_utc, parse_hhmm, zone
from clinic.tokens import Caller
from clinic.versions import read_versions

By = Literal["staff", "rooms"]
BY_VALUES: tuple[By, ...] = ("staff", "rooms")
PALETTE = 8
"""How many session-type colours the page has; a facility with more types reuses them."""


@dataclass(frozen=True)
class BoardQuery:
    day: date
    by: By = "staff"


@dataclass(frozen=True)
class Block:
    """One session in one row, as the caller may see it."""

    id: str
    start: datetime
    """Facility-local."""
    end: datetime
    from_open: int
    """Minutes from the board's first minute (may be negative for a session before opening)."""
    minutes: int
    status: str
    session_type: str | None
    """None when the caller's role may not see what kind of session it is."""
    session_type_name: str | None
    colour: int | None
    """The session type's colour index (0..PALETTE-1), None with the type hidden."""
    title: str
    """Who it is with, as far as the caller may see: patient names, a group's name, or ''."""
    staff: tuple[str, ...]
    room: str | None


@dataclass(frozen=True)
class Band:
    """Time a row is not available: an absence, a room closure, the facility closed."""

    kind: Literal["absence", "room_closed", "facility_closed"]
    label: str
    from_open: int
    minutes: int


@dataclass(frozen=True)
class Row:
    id: str
    name: str
    detail: str
    """A clinician's role or a room's kind, in words."""
    blocks: list[Block] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)


@dataclass(frozen=True)
class Legend:
    session_type: str
    name: str
    colour: int


@dataclass(frozen=True)
class Board:
    day: date
    by: By
    tz: ZoneInfo
    open_minute: int
    """Minutes after local midnight where the time axis starts."""
    close_minute: int
    open_day: bool
    """The facility opens on this weekday."""
    rows: list[Row]
    legend: list[Legend]
    version: str
    """Changes whenever anything on any board may have changed (the audit log's newest event)."""
    now_minute: int | None
    """Minutes from the axis start of 'now', when now is on this day within the axis."""
    labels: dict[str, str] = field(default_factory=dict)
    """Staff and room names by id (for the blocks' 'with' and 'in')."""

    @property
    def span(self) -> int:
        return self.close_minute - self.open_minute

    @property
    def blocks(self) -> int:
        """How many blocks the board draws (a session held by two clinicians is drawn twice)."""
        return sum(len(r.blocks) for r in self.rows)

    @property
    def sessions(self) -> int:
        return len({b.id for r in self.rows for b in r.blocks})


def parse_by(text: str | None) -> By:
    value = (text or "staff").strip().lower()
    if value in ("staff", "clinicians", "people"):
        return "staff"
    if value in ("rooms", "room"):
        return "rooms"
    raise InvalidInput(f"by: show the board by 'staff' or by 'rooms', not {text!r}")


def board_version(db: Database) -> str:
    """The version the board's ETag is made of: cheap (one indexed read), no permission needed
    beyond being signed in (it says only that something changed)."""
    newest = read_versions(db).newest
    return f"{newest.seq}-{newest.hash[:12]}" if newest else "0"


def today(db: Database) -> date:
    """The facility's calendar day now."""
    return now_utc().astimezone(db.facility_tz()).date()


def day_board(db: Database, caller: Caller, query: BoardQuery) -> Board:
    """The board of one day, as the caller may see it."""
    authorize(db, caller, "view_schedule")
    version = board_version(db)
    with db.read() as session:
        facility = session.scalar(select(Facility).limit(1))
        if facility is None:
            raise InvalidInput("there is no facility yet: load one with `rota load FILE`")
        tz = zone(facility.timezone)
        start, end = day_bounds(query.day, tz)
        views = appointments_between(session, start, end, include_cancelled=False)
        types = [
            (t.id, t.name or t.id.replace("_", " ").capitalize())
            for t in session.scalars(select(SessionType).order_by(SessionType.position))
        ]
        names = _patient_names(session, {p for v in views for p in v.patients})
        groups = {g: n for g, n in session.execute(select(Group.id, Group.name))}
        bands = _bands(session, query.by, start, end)
        rows = _rows(session, query, views, bands)
        labels = {i: n for i, n in session.execute(select(Staff.id, Staff.name))}
        labels |= {i: n for i, n in session.execute(select(Room.id, Room.name))}
        hours = (parse_hhmm(facility.open), parse_hhmm(facility.close))
        open_days = tuple(facility.open_days or ())
    open_minute, close_minute = _axis(hours, views, tz)
    colour = {t: i % PALETTE for i, (t, _) in enumerate(types)}
    type_name = dict(types)
    seen_types: set[str] = set()
    by_row = {r.id: r for r in rows}
    shown: dict[str, None] = {}  # the patients the board names to this caller (access log)
    for view in views:
        record = redact_for(db, caller, view, tz)
        shown.update(dict.fromkeys(record.get("patients") or ()))
        kind = record.get("session_type")
        if kind:
            seen_types.add(kind)
        local_start = view.start.astimezone(tz)
        common = {
            "id": view.id,
            "start": local_start,
            "end": view.end.astimezone(tz),
            "from_open": local_start.hour * 60 + local_start.minute - open_minute,
            "minutes": view.minutes,
            "status": view.status,
            "session_type": kind,
            "session_type_name": type_name.get(kind) if kind else None,
            "colour": colour.get(kind) if kind else None,
            "title": _title(record, names, groups),
            "staff": tuple(record.get("staff") or ()),
            "room": record.get("room"),
        }
        keys = view.staff if query.by == "staff" else [view.room] if view.room else []
        for key in keys:
            if key in by_row:
                by_row[key].blocks.append(Block(**common))
    for row in rows:
        for band in bands.get(row.id, ()):
            a, b = _clip(band[0], band[1], start, end, tz, open_minute, close_minute)
            if b > a:
                row.bands.append(Band(band[2], band[3], a, b - a))
        facility_closed = bands.get("*", ())
        for band in facility_closed:
            a, b = _clip(band[0], band[1], start, end, tz, open_minute, close_minute)
            if b > a:
                row.bands.append(Band("facility_closed", band[3], a, b - a))
    access_log.record_reads(db, caller, access_log.SCHEDULE_VIEW, shown, detail={"view": "board"})
    now = now_utc().astimezone(tz)
    now_minute = now.hour * 60 + now.minute - open_minute if now.date() == query.day else None
    if now_minute is not None and not 0 <= now_minute <= close_minute - open_minute:
        now_minute = None
    return Board(
        day=query.day,
        by=query.by,
        tz=tz,
        open_minute=open_minute,
        close_minute=close_minute,
        open_day=WEEKDAYS[query.day.weekday()] in open_days,
        rows=rows,
        legend=[Legend(t, name, colour[t]) for t, name in types if t in seen_types],
        version=version,
        now_minute=now_minute,
        labels=labels,
    )


# --- pieces ---------------------------------------------------------------------------------

BandRow = tuple[datetime, datetime, Literal["absence", "room_closed", "facility_closed"], str]


def _patient_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Patient.id, Patient.name).where(Patient.id.in_(wanted)))
    return {pid: name for pid, name in rows}


def _bands(session: Session, by: By, start: datetime, end: datetime) -> dict[str, list[BandRow]]:
    """Unavailable time overlapping the day, per row id ('*': the whole facility)."""
    out: dict[str, list[BandRow]] = {}
    if by == "staff":
        for s_id, a, b in session.execute(
            select(
                StaffUnavailability.staff_id, StaffUnavailability.start, StaffUnavailability.end
            ).where(StaffUnavailability.start < end, StaffUnavailability.end > start)
        ):
            # The reason is the person's own business (it may be their health): "Away" only.
            out.setdefault(s_id, []).append((a, b, "absence", "Away"))
    else:
        for r_id, a, b, reason in session.execute(
            select(
                RoomUnavailability.room_id,
                RoomUnavailability.start,
                RoomUnavailability.end,
                RoomUnavailability.reason,
            ).where(RoomUnavailability.start < end, RoomUnavailability.end > start)
        ):
            label = f"Closed: {reason}" if reason else "Closed"
            out.setdefault(r_id, []).append((a, b, "room_closed", label))
    for a, b, reason in session.execute(
        select(FacilityClosure.start, FacilityClosure.end, FacilityClosure.reason).where(
            FacilityClosure.start < end, FacilityClosure.end > start
        )
    ):
        label = f"Facility closed: {reason}" if reason else "Facility closed"
        out.setdefault("*", []).append((a, b, "facility_closed", label))
    return out


_ROLE_WORDS = {"nurse_practitioner": "Nurse practitioner", "clinical_director": "Clinical director"}


def _rows(
    session: Session,
    query: BoardQuery,
    views: list[AppointmentView],
    bands: dict[str, list[BandRow]],
) -> list[Row]:
    """Rooms: every room. Staff: whoever holds a session that day or is away that day, and
    whoever works that weekday in a role some session type is held by (the front desk and
    the auditor are not rows)."""
    if query.by == "rooms":
        return [
            Row(r.id, r.name, r.kind.replace("_", " ").capitalize())
            for r in session.scalars(select(Room).order_by(Room.position, Room.id))
        ]
    weekday = WEEKDAYS[query.day.weekday()]
    busy = {s for v in views for s in v.staff} | set(bands)
    holders: set[str] = set()
    for roles in session.scalars(select(SessionType.staff_roles)):
        holders |= set(roles or ())
    rows = []
    for s in session.scalars(select(Staff).order_by(Staff.position, Staff.id)):
        works = bool((s.availability or {}).get(weekday)) and (not holders or s.role in holders)
        if s.id in busy or works:
            detail = _ROLE_WORDS.get(s.role, s.role.replace("_", " ").capitalize())
            rows.append(Row(s.id, s.name, detail))
    return rows


def _axis(hours: tuple[int, int], views: list[AppointmentView], tz: ZoneInfo) -> tuple[int, int]:
    """The opening hours, stretched to whole hours and to any session outside them."""
    lo, hi = hours
    for v in views:
        s, e = v.start.astimezone(tz), v.end.astimezone(tz)
        lo = min(lo, s.hour * 60 + s.minute)
        hi = max(hi, e.hour * 60 + e.minute if e.date() == s.date() else 24 * 60)
    return lo - lo % 60, min(24 * 60, hi + (-hi) % 60)


def _clip(
    a: datetime,
    b: datetime,
    day_start: datetime,
    day_end: datetime,
    tz: ZoneInfo,
    open_minute: int,
    close_minute: int,
) -> tuple[int, int]:
    """A period as minutes from the axis start, cut to the axis."""

    def minute(t: datetime) -> int:
        if t <= day_start:
            return 0
        if t >= day_end:
            return 24 * 60
        local = t.astimezone(tz)
        return local.hour * 60 + local.minute

    lo = max(minute(a), open_minute)
    hi = min(minute(b), close_minute)
    return lo - open_minute, hi - open_minute


def _title(record: dict, names: dict[str, str], groups: dict[str, str]) -> str:
    if record.get("group") and record["group"] in groups:
        members = record.get("patients")
        count = f" ({len(members)})" if members else ""
        return f"{groups[record['group']]}{count}"
    patients = record.get("patients")
    if patients:
        return ", ".join(names.get(p, p) for p in patients)
    return ""
