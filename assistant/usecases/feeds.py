"""Calendar feeds: one secret URL per clinician or room, which calendar clients subscribe to.

The URL is the credential (calendar clients send no bearer token), so it carries a random
token of 192 bits; only its SHA-256 is stored, and a feed can be revoked. What a feed says is
plain data here (`Feed`, `FeedEvent`); integrations/ical renders it as iCalendar.

Each event keeps the appointment's id as its UID and counts the appointment's changes as its
SEQUENCE (its audit events: every book, move, cancel and status change writes one), so a
calendar client updates the event it has instead of adding a second. A cancelled session
stays in the feed, STATUS:CANCELLED, for `CANCELLED_KEPT` after the cancellation, so clients
that saw it remove it rather than keep a stale copy; a session moved to another clinician or
room stays, cancelled, in the feed it left (read from the audit log's moves) for as long.

Patients' initials appear only where the facility allows it (`calendar_patient_initials`,
default off); a fetch of a feed that shows them is a disclosure and is audited. Creating and
revoking feeds are audited too.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from assistant.access import authorize
from clinic import access_log
from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.feed_models import FEED_KINDS, CalendarFeed
from clinic.models import (
    Appointment,
    AppointmentStaff,
    AuditEvent,
    Facility,
    Group,
    Patient,
    Room,
    SessionType,
    Staff,
)
from clinic.placement import load_row
from clinic.timeutil import now_utc
from clinic.tokens import Caller, secret_digest

PAST = timedelta(days=30)
"""How far back a feed reaches (sessions that started before then are left out)."""
AHEAD = timedelta(days=180)
"""How far ahead a feed reaches."""
CANCELLED_KEPT = timedelta(days=30)
"""A cancelled session stays in the feed (STATUS:CANCELLED) this long after its cancellation."""
PATH_PREFIX = "/ical/"
SUFFIX = ".ics"
BASE_URL_ENV = "ROTA_BASE_URL"
MANAGE_ACTION = {"staff": "manage_staff", "room": "manage_rooms"}
"""The permissions pack's action for managing a clinician's or a room's feed."""
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
_CANCELLED = frozenset({"cancelled", "late_cancelled"})

# -- plain data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    location: str | None
    description: str
    status: str  # CONFIRMED | TENTATIVE | CANCELLED (iCalendar's words)
    last_modified: datetime


@dataclass(frozen=True)
class Feed:
    name: str
    tz: ZoneInfo
    generated: datetime
    events: list[FeedEvent]
    patient_initials: bool


@dataclass(frozen=True)
class IssuedFeed:
    id: int
    kind: str
    subject: str
    subject_name: str
    path: str
    """The feed's path (relative to the server's base), or the absolute URL with ROTA_BASE_URL."""


@dataclass(frozen=True)
class FeedInfo:
    id: int
    kind: str
    subject: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


# -- tokens -------------------------------------------------------------------------------------


def token_of(text: str) -> str | None:
    """The token in a feed URL, path or bare token (None when it cannot be one)."""
    tail = text.strip().rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    tail = tail.removesuffix(SUFFIX)
    return tail if _TOKEN.match(tail) else None


def feed_url(token: str, base: str | None) -> str:
    path = f"{PATH_PREFIX}{token}{SUFFIX}"
    return f"{base.rstrip('/')}{path}" if base else path


# -- management (operator and directors) --------------------------------------------------------


def _subject(session: Session, kind: str, subject: str) -> str:
    """The subject's name; NotFound when there is no such clinician or room."""
    if kind not in FEED_KINDS:
        raise InvalidInput(f"a feed is for a clinician or a room, not {kind!r}")
    model, what = (Staff, "staff member") if kind == "staff" else (Room, "room")
    return str(load_row(session, model, subject, what).name)


def issue(
    db: Database, caller: Caller, kind: str, subject: str, *, base: str | None = None
) -> IssuedFeed:
    """A new secret feed URL for a clinician or a room (shown once; earlier ones keep working
    until revoked)."""
    with db.read() as session:
        _subject(session, kind, subject)
    authorize(db, caller, MANAGE_ACTION[kind])
    token = secrets.token_urlsafe(24)  # 192 random bits
    with db.session() as session:
        name = _subject(session, kind, subject)
        row = CalendarFeed(
            kind=kind,
            subject_id=subject,
            token_hash=secret_digest(token),
            created_at=now_utc(),
            created_by=caller.staff_id,
        )
        session.add(row)
        session.flush()
        append_event(
            session,
            actor=caller.staff_id,
            action="ical.create",
            entity_type=kind,
            entity_id=subject,
            after={"feed": row.id, "kind": kind},
        )
        return IssuedFeed(row.id, kind, subject, name, feed_url(token, base))


def revoke(
    db: Database,
    caller: Caller,
    *,
    kind: str | None = None,
    subject: str | None = None,
    token: str | None = None,
) -> list[int]:
    """Revoke one feed (by its token or URL) or every live feed of a clinician or room; returns
    the ids revoked. Its URL answers 404 from then on."""
    if (token is None) == (subject is None):
        raise InvalidInput("revoke a feed by its URL (or token), or every feed of --staff/--room")
    with db.read() as session:
        if token is not None:
            row = _live(session, token)
            if row is None:
                raise NotFound("no live calendar feed has that URL")
            kind, subject = row.kind, row.subject_id
        assert kind is not None and subject is not None
        _subject(session, kind, subject)
    authorize(db, caller, MANAGE_ACTION[kind])
    with db.session() as session:
        query = select(CalendarFeed).where(
            CalendarFeed.kind == kind,
            CalendarFeed.subject_id == subject,
            CalendarFeed.revoked_at.is_(None),
        )
        if token is not None:
            query = query.where(CalendarFeed.token_hash == secret_digest(token_of(token) or token))
        rows = list(session.scalars(query.order_by(CalendarFeed.id)))
        now = now_utc()
        for row in rows:
            row.revoked_at = now
        append_event(
            session,
            actor=caller.staff_id,
            action="ical.revoke",
            entity_type=kind,
            entity_id=subject,
            after={"feeds": [r.id for r in rows]},
        )
        return [r.id for r in rows]


def listing(db: Database, caller: Caller) -> list[FeedInfo]:
    """Every feed ever issued (live and revoked), oldest first; never a token."""
    authorize(db, caller, "manage_staff")
    with db.read() as session:
        rows = session.scalars(select(CalendarFeed).order_by(CalendarFeed.id))
        return [
            FeedInfo(r.id, r.kind, r.subject_id, r.created_at, r.created_by, r.revoked_at)
            for r in rows
        ]


def set_patient_initials(db: Database, caller: Caller, allowed: bool) -> bool:
    """The facility's setting: may feeds show patients' initials? Returns the setting before."""
    authorize(db, caller, "edit_rules")
    with db.session() as session:
        facility = session.scalar(select(Facility).limit(1))
        if facility is None:
            raise InvalidInput("no facility is loaded: run `rota load FILE` first")
        before = bool(facility.calendar_patient_initials)
        facility.calendar_patient_initials = allowed
        append_event(
            session,
            actor=caller.staff_id,
            action="facility.calendar_patient_initials",
            entity_type="facility",
            entity_id=facility.name[:64],
            before={"calendar_patient_initials": before},
            after={"calendar_patient_initials": allowed},
        )
        return before


# -- the feed itself (anyone holding the URL) ---------------------------------------------------


def _live(session: Session, token: str) -> CalendarFeed | None:
    bare = token_of(token)
    if bare is None:
        return None
    return session.scalars(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == secret_digest(bare), CalendarFeed.revoked_at.is_(None)
        )
    ).first()


def fetch(db: Database, token: str, *, now: datetime | None = None) -> Feed:
    """The feed a secret URL names. An unknown or revoked token is NotFound, with no detail
    (nothing tells a guesser whether a feed ever existed)."""
    now = now or now_utc()
    with db.read() as session:
        feed = _live(session, token)
        if feed is None:
            raise NotFound("not found")
        facility = session.scalar(select(Facility).limit(1))
        if facility is None:
            raise NotFound("not found")
        tz = ZoneInfo(facility.timezone)
        initials = bool(facility.calendar_patient_initials)
        try:
            name = _subject(session, feed.kind, feed.subject_id)
        except NotFound:  # the clinician or room is gone: say no more than for any other URL
            raise NotFound("not found") from None
        rows = _appointments(session, feed, now)
        events, shown = _events(session, rows, initials)
        events += _moved_away(session, feed, now, {r.id for r in rows})
        feed_id, kind, subject = feed.id, feed.kind, feed.subject_id
    if shown:  # the initials left Rota: a disclosure to whoever holds the URL
        with db.session() as session:
            append_event(
                session,
                actor=f"ical:{feed_id}",
                action="disclosure",
                entity_type="patient",
                entity_id=None,
                after={
                    "channel": "ical",
                    "feed": feed_id,
                    "kind": kind,
                    "subject": subject,
                    "content": "initials",
                    "patients": sorted(shown),
                },
                reason="calendar feed fetched",
            )
        # Whoever holds the URL read them: the feed is the actor (no one signed in).
        holder = Caller(f"ical:{feed_id}", f"calendar feed {feed_id}", "calendar_feed", door="http")
        detail = {"feed": feed_id, "kind": kind, "subject": subject}
        access_log.record_reads(db, holder, access_log.CALENDAR_FEED, sorted(shown), detail=detail)
    label = name if kind == "staff" else f"{name} (room)"
    return Feed(f"Rota: {label}", tz, now, events, initials)


def _appointments(session: Session, feed: CalendarFeed, now: datetime) -> list[Appointment]:
    query = select(Appointment).where(
        Appointment.start >= now - PAST,
        Appointment.start < now + AHEAD,
        or_(Appointment.active, Appointment.updated_at >= now - CANCELLED_KEPT),
    )
    if feed.kind == "staff":
        query = query.join(AppointmentStaff).where(AppointmentStaff.staff_id == feed.subject_id)
    else:
        query = query.where(Appointment.room_id == feed.subject_id)
    query = query.options(
        selectinload(Appointment.staff_links), selectinload(Appointment.patient_links)
    )
    rows = list(session.scalars(query.order_by(Appointment.start, Appointment.id)))
    # A cancelled session is kept only for a while; a late-cancelled member of a live group
    # does not cancel the session.
    return [r for r in rows if r.active or r.status in _CANCELLED]


def _events(
    session: Session, rows: list[Appointment], initials: bool
) -> tuple[list[FeedEvent], set[str]]:
    ids = [r.id for r in rows]
    changes = _change_counts(session, ids)
    types = {t.id: t.name or t.id for t in session.scalars(select(SessionType))}
    rooms = dict(session.execute(select(Room.id, Room.name)).tuples().all())
    staff = dict(session.execute(select(Staff.id, Staff.name)).tuples().all())
    groups = dict(session.execute(select(Group.id, Group.name)).tuples().all())
    patients: dict[str, str] = {}
    if initials:
        wanted = {p for r in rows if r.group_id is None for p in r.patient_ids}
        if wanted:
            patients = dict(
                session.execute(select(Patient.id, Patient.name).where(Patient.id.in_(wanted)))
                .tuples()
                .all()
            )
    shown: set[str] = set()
    events = []
    for r in rows:
        summary = types.get(r.session_type_id, r.session_type_id)
        if r.group_id is not None:
            summary = f"{summary}: {groups.get(r.group_id, r.group_id)}"
        elif initials and r.patient_ids:
            summary = (
                f"{summary} ({', '.join(_initials(patients.get(p, '')) for p in r.patient_ids)})"
            )
            shown.update(r.patient_ids)
        with_ = ", ".join(staff.get(s, s) for s in r.staff_ids)
        events.append(
            FeedEvent(
                uid=f"{r.id}@rota",
                sequence=changes.get(r.id, 0),
                start=r.start,
                end=r.end,
                summary=summary,
                location=rooms.get(r.room_id) if r.room_id else None,
                description=f"With {with_}" if with_ else "",
                status=_status(r.status),
                last_modified=r.updated_at,
            )
        )
    return events, shown


def _moved_away(
    session: Session, feed: CalendarFeed, now: datetime, present: set[str]
) -> list[FeedEvent]:
    """Sessions moved to another clinician or room in the last `CANCELLED_KEPT`: in this feed
    they are STATUS:CANCELLED (as they were, without patients), so a subscribed calendar
    drops them instead of keeping the old time."""
    moves = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "appointment.move", AuditEvent.at >= now - CANCELLED_KEPT)
        .order_by(AuditEvent.seq)
    )
    gone: dict[str, tuple[dict[str, Any], datetime]] = {}
    for event in moves:
        if event.entity_id is None or event.entity_id in present:
            continue
        if _holds(feed, event.before) and not _holds(feed, event.after):
            assert event.before is not None
            gone[event.entity_id] = (event.before, event.at)
        elif _holds(feed, event.after):
            gone.pop(event.entity_id, None)
    if not gone:
        return []
    changes = _change_counts(session, list(gone))
    types = {t.id: t.name or t.id for t in session.scalars(select(SessionType))}
    rooms = dict(session.execute(select(Room.id, Room.name)).tuples().all())
    out = []
    for appointment_id, (was, at) in gone.items():
        start, end = datetime.fromisoformat(was["start"]), datetime.fromisoformat(was["end"])
        if not now - PAST <= start < now + AHEAD:
            continue
        out.append(
            FeedEvent(
                uid=f"{appointment_id}@rota",
                sequence=changes.get(appointment_id, 0),
                start=start,
                end=end,
                summary=types.get(was.get("session_type", ""), str(was.get("session_type"))),
                location=rooms.get(was["room"]) if was.get("room") else None,
                description="Moved to another clinician or room",
                status="CANCELLED",
                last_modified=at,
            )
        )
    return sorted(out, key=lambda e: (e.start, e.uid))


def _holds(feed: CalendarFeed, record: dict[str, Any] | None) -> bool:
    """Whether an appointment as an audit event recorded it belongs in this feed."""
    if not record:
        return False
    if feed.kind == "staff":
        return feed.subject_id in (record.get("staff") or [])
    return record.get("room") == feed.subject_id


def _status(status: str) -> str:
    if status in _CANCELLED:
        return "CANCELLED"
    return "TENTATIVE" if status == "proposed" else "CONFIRMED"


def _initials(name: str) -> str:
    """'Laura Fox' → 'L.F.' (the first letter of each word; nothing else of the name)."""
    letters = [w[0].upper() for w in re.split(r"[\s\-]+", name.strip()) if w and w[0].isalpha()]
    return ".".join(letters) + "." if letters else "?"


def _change_counts(session: Session, ids: list[str]) -> dict[str, int]:
    """Per appointment, how many changes the audit log holds (book, move, cancel, status):
    every change writes one event, so the count only grows."""
    out: dict[str, int] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        query = (
            select(AuditEvent.entity_id, func.count())
            .where(AuditEvent.entity_id.in_(chunk), AuditEvent.action.like("appointment.%"))
            .group_by(AuditEvent.entity_id)
        )
        out.update({str(k): int(n) for k, n in session.execute(query).tuples()})
    return out
