"""The waitlist and its offers: patients waiting for a session type (a clinician, a time
window); when a slot frees up the best-ranked of them are offered it, and the first to accept
books it.

- `add`, `entries`, `withdraw`: the list itself (whoever may book for a patient may put them
  on it, see it and take them off).
- `offers_for_freed_slot`: the waiting patients a freed slot suits, each re-checked by a trial
  booking through the booking service (the very path a booking takes: hard checks and every
  rule pack, inside a savepoint that is rolled back), ranked by `rank_score`; the top
  OFFERS_PER_SLOT get an offer. `offer_freed` is the hook the use cases that free a slot call
  (a cancellation, a late cancellation, a move, an applied repair).
- Delivery: an SMS straight to the patient when the facility enables it (ROTA_WAITLIST_SMS=1)
  and the patient chose SMS and consented (the consent pack judges it, a refusal is audited);
  otherwise a Slack DM to the patient's case manager, who offers it in one message.
- `accept` (a door, as the case manager) and `accept_by_sms` (the patient's "Y"): one
  transaction locks every offer of the slot, books through the booking service, and claims the
  offer with a conditional update; the first wins, a later one hears "that time was just taken"
  and stays on the list, and the other open offers of the slot are closed and their patients
  told.
- `expire_offers` (the `waitlist` job): offers nobody answered in time close, their patients
  wait again, and the slot goes to the next in rank.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant import messages, no_show, outbox
from assistant.access import authorize, permits
from assistant.wiring import booking_service
from clinic.audit import append_event
from clinic.booking import AppointmentView, BookingRequest, ProposedChange
from clinic.db import Database
from clinic.errors import (
    BookingConflict,
    InvalidInput,
    NotFound,
    RuleViolation,
)
from clinic.models import Appointment, AppointmentPatient, Patient, SessionType, Staff
from clinic.placement import load_row
from clinic.queries import facility_zone_name
from clinic.timeutil import now_utc, parse_hhmm, zone
from clinic.tokens import Caller
from clinic.waitlist_models import ENTRY_STATUSES, OFFER_STATUSES, WaitlistEntry, WaitlistOffer
from rules.derive import derive
from rules.facts import situation_for_change
from rules.service import default_service

BOOK = "book"
"""The permissions pack's action: whoever may book for a patient may put them on the list,
see their entry, take them off and accept an offer for them."""
ACTOR = "waitlist"
OFFERS_PER_SLOT = 3
"""Offers go to several patients at once: in Epic's Fast Pass studies only 8-11% of offers
were accepted (../shared/notes/peers.md, row 6)."""
OFFER_TTL = timedelta(hours=2)
MIN_LEAD = timedelta(hours=1)
"""A slot starting sooner than this is not offered, and an offer closes this long before it."""
SMS_SETTING = "ROTA_WAITLIST_SMS"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = dict(
    zip(
        DAYS,
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        strict=True,
    )
)
PREVIEW = "Rota: a freed time for someone on your waitlist."
"""The Slack notification text (lock screens show it): no patient detail."""

# The ranking's points, one named term each (see `rank_score`).
POINTS_COURT_ORDER_DUE = 40.0
POINTS_PER_ACUITY = 6.0
POINTS_PER_PRIORITY = 10.0
POINTS_PER_DAY_WAITING = 1.0
MAX_DAYS_COUNTED = 30
POINTS_EXPECTED_ATTENDANCE = 20.0


# --- commands and views ------------------------------------------------------------------------


@dataclass(frozen=True)
class AddEntry:
    patient: str
    session_type: str
    staff: str | None = None
    days: tuple[str, ...] = ()
    time_from: str | None = None
    time_until: str | None = None
    earliest: date | None = None
    latest: date | None = None
    priority: int = 0
    note: str | None = None


@dataclass(frozen=True)
class ListEntries:
    statuses: tuple[str, ...] = ("waiting", "offered")
    patient: str | None = None


@dataclass(frozen=True)
class Withdraw:
    entry_id: int
    reason: str | None = None


@dataclass(frozen=True)
class ListOffers:
    statuses: tuple[str, ...] = ("open",)


@dataclass(frozen=True)
class AcceptOffer:
    offer_id: int


@dataclass(frozen=True)
class EntryView:
    id: int
    patient: str
    session_type: str
    staff: str | None
    days: tuple[str, ...]
    time_from: str | None
    time_until: str | None
    earliest: date | None
    latest: date | None
    priority: int
    note: str | None
    status: str
    appointment: str | None
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class OfferView:
    id: int
    entry: int
    patient: str
    session_type: str
    start: datetime
    end: datetime
    staff: str
    room: str | None
    channel: str
    status: str
    rank: int
    score: float
    reasons: tuple[dict[str, Any], ...]
    expires_at: datetime
    appointment: str | None


@dataclass(frozen=True)
class Slot:
    """A time a cancellation, a move or a repair left free: one clinician, one session type."""

    session_type: str
    start: datetime
    end: datetime
    staff: str
    room: str | None = None
    freed_by: str | None = None  # the appointment that left it
    leaving: tuple[str, ...] = ()  # its patients, who are not offered their own time back

    @property
    def key(self) -> str:
        return f"{self.staff}@{self.start.isoformat()}"

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True)
class PriorityInputs:
    """What the ranking weighs for one waiting patient and one slot."""

    acuity: int
    acuity_source: str
    court_order_due: bool
    days_waiting: int
    no_show_probability: float
    priority: int = 0


@dataclass(frozen=True)
class Candidate:
    entry_id: int
    patient: str
    score: float
    reasons: tuple[dict[str, Any], ...]
    created_at: datetime
    actor: str
    room: str | None


@dataclass
class _Accepted:
    view: OfferView | None = None
    lost: str | None = None  # why not: the words the loser hears
    tell: list[int] = field(default_factory=list)


# --- the list ----------------------------------------------------------------------------------


def add(db: Database, caller: Caller, cmd: AddEntry) -> EntryView:
    """Put a patient on the waitlist (one open entry per patient and session type)."""
    authorize(db, caller, BOOK, patient_id=cmd.patient)
    days, problems = _check_entry(cmd)
    now = now_utc()
    with db.session() as session:
        load_row(session, Patient, cmd.patient, "patient")
        if session.get(SessionType, cmd.session_type) is None:
            problems.append(f"$.session_type: no session type {cmd.session_type!r}")
        if cmd.staff is not None and session.get(Staff, cmd.staff) is None:
            problems.append(f"$.staff: no staff member {cmd.staff!r}")
        if problems:
            raise InvalidInput(f"the waitlist entry has {len(problems)} problem(s)", problems)
        already = session.scalar(
            select(WaitlistEntry.id).where(
                WaitlistEntry.patient_id == cmd.patient,
                WaitlistEntry.session_type_id == cmd.session_type,
                WaitlistEntry.status.in_(("waiting", "offered")),
            )
        )
        if already is not None:
            raise BookingConflict(
                f"{cmd.patient} is already on the waitlist for {cmd.session_type} "
                f"(entry {already}); withdraw it first to change it"
            )
        row = WaitlistEntry(
            patient_id=cmd.patient,
            session_type_id=cmd.session_type,
            staff_id=cmd.staff,
            days=list(days) or None,
            time_from=cmd.time_from,
            time_until=cmd.time_until,
            earliest=cmd.earliest,
            latest=cmd.latest,
            priority=cmd.priority,
            note=cmd.note,
            status="waiting",
            created_at=now,
            created_by=caller.staff_id,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        view = entry_view(row)
        append_event(
            session,
            actor=caller.staff_id,
            action="waitlist.add",
            entity_type="waitlist_entry",
            entity_id=str(row.id),
            after=_record(view),
        )
        return view


def _check_entry(cmd: AddEntry) -> tuple[tuple[str, ...], list[str]]:
    problems: list[str] = []
    days = tuple(d.strip().lower()[:3] for d in cmd.days)
    problems += [
        f"$.days: {given!r} is not a weekday (mon ... sun)"
        for given, day in zip(cmd.days, days, strict=True)
        if day not in DAYS or not DAY_NAMES[day].startswith(given.strip().lower())
    ]
    times: dict[str, int] = {}
    for name, value in (("time_from", cmd.time_from), ("time_until", cmd.time_until)):
        if value is None:
            continue
        try:
            times[name] = parse_hhmm(value)
        except ValueError:
            times[name] = -1
        if not 0 <= times[name] <= 24 * 60:
            problems.append(f"$.{name}: {value!r} is not a time like 09:30")
    if 0 <= times.get("time_until", 1441) <= times.get("time_from", -1):
        problems.append("$.time_until: must be after time_from")
    if cmd.earliest and cmd.latest and cmd.latest < cmd.earliest:
        problems.append("$.latest: must not be before earliest")
    if not 0 <= cmd.priority <= 2:
        problems.append("$.priority: 0 (normal), 1 (high) or 2 (urgent)")
    return days, problems


def entries(db: Database, caller: Caller, cmd: ListEntries) -> list[EntryView]:
    """Entries in `statuses`, oldest first: those of patients the caller may book for."""
    authorize(db, caller, BOOK)
    unknown = [s for s in cmd.statuses if s not in ENTRY_STATUSES]
    if unknown:
        raise InvalidInput(
            f"unknown status {unknown[0]!r}; use one of {', '.join(ENTRY_STATUSES)}",
            [f"$.status: {unknown[0]!r}"],
        )
    with db.read() as session:
        query = select(WaitlistEntry).order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        if cmd.statuses:
            query = query.where(WaitlistEntry.status.in_(cmd.statuses))
        if cmd.patient:
            query = query.where(WaitlistEntry.patient_id == cmd.patient)
        rows = [entry_view(r) for r in session.scalars(query)]
    return [r for r in rows if _may_book(db, caller, r.patient)]


def withdraw(db: Database, caller: Caller, cmd: Withdraw) -> EntryView:
    """Take an entry off the list; its open offers close (the slot stays offered to others)."""
    with db.read() as session:
        patient = session.scalar(
            select(WaitlistEntry.patient_id).where(WaitlistEntry.id == cmd.entry_id)
        )
    if patient is None:
        raise NotFound(f"no waitlist entry {cmd.entry_id}")
    authorize(db, caller, BOOK, patient_id=patient)
    now = now_utc()
    with db.session() as session:
        row = session.get(WaitlistEntry, cmd.entry_id)
        assert row is not None
        if row.status not in ("waiting", "offered"):
            raise InvalidInput(
                f"waitlist entry {row.id} is {row.status}; only a waiting entry can be withdrawn"
            )
        before = _record(entry_view(row))
        row.status, row.updated_at = "withdrawn", now
        session.execute(
            update(WaitlistOffer)
            .where(WaitlistOffer.entry_id == row.id, WaitlistOffer.status == "open")
            .values(status="declined", decided_at=now)
        )
        view = entry_view(row)
        append_event(
            session,
            actor=caller.staff_id,
            action="waitlist.withdraw",
            entity_type="waitlist_entry",
            entity_id=str(row.id),
            before=before,
            after=_record(view),
            reason=cmd.reason,
        )
        return view


def offers(db: Database, caller: Caller, cmd: ListOffers) -> list[OfferView]:
    """Offers in `statuses`, newest first, of patients the caller may book for."""
    authorize(db, caller, BOOK)
    unknown = [s for s in cmd.statuses if s not in OFFER_STATUSES]
    if unknown:
        raise InvalidInput(
            f"unknown status {unknown[0]!r}; use one of {', '.join(OFFER_STATUSES)}",
            [f"$.status: {unknown[0]!r}"],
        )
    with db.read() as session:
        query = select(WaitlistOffer).order_by(WaitlistOffer.id.desc())
        if cmd.statuses:
            query = query.where(WaitlistOffer.status.in_(cmd.statuses))
        rows = [offer_view(r) for r in session.scalars(query)]
    return [r for r in rows if _may_book(db, caller, r.patient)]


def _may_book(db: Database, caller: Caller, patient: str) -> bool:
    return permits(db, caller, BOOK, patient_id=patient)


# --- ranking -----------------------------------------------------------------------------------


def rank_score(inputs: PriorityInputs) -> tuple[float, tuple[dict[str, Any], ...]]:
    """The waitlist's ranking: points per named term, added up, highest first (ties: the
    longest waiting). Each term comes back as a reason {term, value, points} a person reads.

    - court_order_due: POINTS_COURT_ORDER_DUE when this slot would fill a session the patient's
      court order still requires this week (the court pack's own facts, CRT-01): a mandate
      missed has legal consequences for the patient.
    - acuity: POINTS_PER_ACUITY per point of clinical priority (1-5, the record's `acuity`;
      without one, the level of care stands in: `acuity_of_level`).
    - priority: POINTS_PER_PRIORITY per level a person gave the entry (1 high, 2 urgent).
    - days_waiting: POINTS_PER_DAY_WAITING per day on the list, at most MAX_DAYS_COUNTED, so
      the long-waiting rise without outranking acuity forever.
    - expected_attendance: POINTS_EXPECTED_ATTENDANCE x (1 - no-show probability): a freed
      slot given to someone likely to come is not lost a second time.
    """
    attend = max(0.0, min(1.0, 1.0 - inputs.no_show_probability))
    days = min(inputs.days_waiting, MAX_DAYS_COUNTED)
    terms = (
        (
            "court_order_due",
            inputs.court_order_due,
            POINTS_COURT_ORDER_DUE * inputs.court_order_due,
        ),
        ("acuity", f"{inputs.acuity} ({inputs.acuity_source})", POINTS_PER_ACUITY * inputs.acuity),
        ("priority", inputs.priority, POINTS_PER_PRIORITY * inputs.priority),
        ("days_waiting", inputs.days_waiting, POINTS_PER_DAY_WAITING * days),
        ("expected_attendance", round(attend, 2), POINTS_EXPECTED_ATTENDANCE * attend),
    )
    reasons = tuple({"term": t, "value": v, "points": round(p, 2)} for t, v, p in terms)
    return round(sum(p for _, _, p in terms), 2), reasons


def acuity_of_level(level: str | None) -> int:
    """A level of care's stand-in for acuity (ASAM: 0.5 early intervention ... 4 medically
    managed inpatient): 1-5."""
    try:
        number = float((level or "").split("-")[0])
    except ValueError:
        return 1
    return 1 if number < 1 else 2 if number < 2 else 3 if number < 3 else 4 if number < 4 else 5


def no_show_probability(
    session: Session, patient_id: str, start: datetime, session_type: str
) -> float:
    """A waiting patient's no-show risk for the ranking: the stored model's (assistant.no_show),
    else the patient's smoothed own rate."""
    return no_show.no_show_probability(session, patient_id, start, session_type, now=now_utc())


def court_order_due(session: Session, view: AppointmentView, actor: str) -> bool:
    """Would this booking fill a session the patient's court order still requires in its week?
    Read from the court pack's own derived facts for the booking (rules.derive, CRT-01)."""
    packs = default_service().packs
    change = ProposedChange("book", actor, view, None, None, None)
    staff, situation = situation_for_change(session, packs, change)
    for fact in derive("book", staff, situation, packs.tables):
        if fact.get("subject") == "patient" and fact.get("patient") in view.patients:
            per_week = fact.get("court_required_per_week")
            count = fact.get("court_week_count_after")
            if fact.get("court_order_active") and per_week is not None and count is not None:
                return bool(count <= per_week)
    return False


def ranked(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Highest score first; on a tie, whoever has waited longest."""
    return sorted(candidates, key=lambda c: (-c.score, c.created_at, c.entry_id))


# --- a freed slot ------------------------------------------------------------------------------


def slot_of(view: AppointmentView) -> Slot | None:
    """The slot a cancelled or moved one-patient session leaves (a group's seat is not one)."""
    if view.group or len(view.patients) > 1 or not view.staff:
        return None
    return Slot(
        session_type=view.session_type,
        start=view.start,
        end=view.end,
        staff=view.staff[0],
        room=view.room,
        freed_by=view.id,
        leaving=tuple(view.patients),
    )


def slot_of_move(move: dict[str, Any]) -> Slot | None:
    """The slot a proposal's move leaves (its `before`, as `absences.repair_payload` keeps it)."""
    before = move["before"]
    if before.get("group") or len(before.get("patients") or []) > 1 or not before.get("staff"):
        return None
    return Slot(
        session_type=before["session_type"],
        start=_moment(before["start"]),
        end=_moment(before["end"]),
        staff=before["staff"][0],
        room=before.get("room"),
        freed_by=move.get("appointment"),
        leaving=tuple(before.get("patients") or ()),
    )


def offer_freed(
    db: Database, session: Session, slots: Iterable[Slot | None], *, actor: str
) -> list[int]:
    """The hook: each slot a change just freed is offered to the waitlist, in the change's own
    transaction (the change and its offers commit together). Returns the offers' ids."""
    now = now_utc()
    made: list[int] = []
    for slot in slots:
        if slot is not None:
            made += offers_for_freed_slot(db, session, slot, now=now, actor=actor)
    return made


def offers_for_freed_slot(
    db: Database,
    session: Session,
    slot: Slot,
    *,
    now: datetime,
    actor: str,
    skip_entries: Sequence[int] = (),
) -> list[int]:
    """Offer `slot` to the best-ranked waiting patients it suits (at most OFFERS_PER_SLOT, less
    any offers of it still open); returns the new offers' ids. Nothing when the slot starts
    within MIN_LEAD or nobody fits."""
    if slot.start - MIN_LEAD <= now:
        return []
    open_now = session.scalar(
        select(WaitlistOffer.id).where(
            WaitlistOffer.slot_key == slot.key, WaitlistOffer.status.in_(("open", "accepted"))
        )
    )
    if open_now is not None:
        return []  # offered already (a retried change), or booked from the list
    tz = zone(facility_zone_name(session))
    chosen = ranked(_candidates(db, session, slot, now, actor, tz, skip_entries))
    made = []
    for rank, candidate in enumerate(chosen[:OFFERS_PER_SLOT], start=1):
        made.append(_open_offer(session, slot, candidate, rank, now, tz))
    return made


def _candidates(
    db: Database,
    session: Session,
    slot: Slot,
    now: datetime,
    actor: str,
    tz: Any,
    skip_entries: Sequence[int],
) -> list[Candidate]:
    query = select(WaitlistEntry).where(
        WaitlistEntry.status == "waiting",
        WaitlistEntry.session_type_id == slot.session_type,
        (WaitlistEntry.staff_id.is_(None)) | (WaitlistEntry.staff_id == slot.staff),
    )
    found = []
    for entry in session.scalars(query.order_by(WaitlistEntry.created_at, WaitlistEntry.id)):
        if entry.id in skip_entries or entry.patient_id in slot.leaving:
            continue
        if not suits(entry, slot, tz):
            continue
        patient = session.get(Patient, entry.patient_id)
        if patient is None:
            continue
        by = case_manager_of(session, patient) or actor
        view = _trial(db, session, slot, entry.patient_id, by)
        if view is None:
            continue  # the booking's own checks or rules say no: not offered
        inputs = PriorityInputs(
            acuity=patient.acuity or acuity_of_level(patient.level_of_care),
            acuity_source="acuity" if patient.acuity else f"level of care {patient.level_of_care}",
            court_order_due=court_order_due(session, view, by),
            days_waiting=max(0, (now - entry.created_at).days),
            no_show_probability=no_show_probability(
                session, entry.patient_id, slot.start, slot.session_type
            ),
            priority=entry.priority,
        )
        score, reasons = rank_score(inputs)
        found.append(
            Candidate(entry.id, entry.patient_id, score, reasons, entry.created_at, by, view.room)
        )
    return found


def suits(entry: WaitlistEntry, slot: Slot, tz: Any) -> bool:
    """Does the slot fall in the entry's window (days, times of day, dates; facility time)?"""
    start = slot.start.astimezone(tz)
    if entry.days and DAYS[start.weekday()] not in entry.days:
        return False
    if entry.earliest and start.date() < entry.earliest:
        return False
    if entry.latest and start.date() > entry.latest:
        return False
    minutes = start.hour * 60 + start.minute
    if entry.time_from and minutes < parse_hhmm(entry.time_from):
        return False
    return not (entry.time_until and minutes + slot.minutes > parse_hhmm(entry.time_until))


def _request(slot: Slot, patient: str) -> BookingRequest:
    return BookingRequest(
        session_type=slot.session_type,
        start=slot.start,
        staff=[slot.staff],
        patients=[patient],
        room=None,  # placement picks a free room that suits (the freed one, usually)
        minutes=slot.minutes,
    )


def _trial(
    db: Database, session: Session, slot: Slot, patient: str, actor: str
) -> AppointmentView | None:
    """Book the patient into the slot inside a savepoint and take it back: the booking's own
    hard checks and rule packs judge it, exactly as they will when the offer is accepted."""
    trial = session.begin_nested()
    try:
        return booking_service(db, session).book(
            actor, _request(slot, patient), reason="waitlist: would this slot fit?"
        )
    except (BookingConflict, RuleViolation, InvalidInput, NotFound):
        return None
    finally:
        trial.rollback()


def case_manager_of(session: Session, patient: Patient) -> str | None:
    """Who offers a slot to this patient: their court liaison when they have one; else whoever
    held their latest case-management session; else their primary clinician."""
    if patient.court_order is not None and patient.court_order.liaison_id:
        return patient.court_order.liaison_id
    latest = session.scalar(
        select(Appointment.id)
        .join(AppointmentPatient, AppointmentPatient.appointment_id == Appointment.id)
        .where(
            AppointmentPatient.patient_id == patient.id,
            Appointment.session_type_id == "case_management",
        )
        .order_by(Appointment.start.desc())
        .limit(1)
    )
    if latest is not None:
        appointment = session.get(Appointment, latest)
        if appointment is not None and appointment.staff_ids:
            return appointment.staff_ids[0]
    return patient.primary_clinician_id


def _open_offer(
    session: Session, slot: Slot, candidate: Candidate, rank: int, now: datetime, tz: Any
) -> int:
    entry = session.get(WaitlistEntry, candidate.entry_id)
    patient = session.get(Patient, candidate.patient)
    assert entry is not None and patient is not None
    row = WaitlistOffer(
        entry_id=entry.id,
        patient_id=patient.id,
        slot_key=slot.key,
        session_type_id=slot.session_type,
        start=slot.start,
        end=slot.end,
        staff_id=slot.staff,
        room_id=candidate.room,
        freed_by=slot.freed_by,
        channel="case_manager",
        offered_by=candidate.actor,
        rank=rank,
        score=candidate.score,
        reasons=list(candidate.reasons),
        status="open",
        expires_at=min(now + OFFER_TTL, slot.start - MIN_LEAD),
        created_at=now,
    )
    session.add(row)
    session.flush()
    entry.status, entry.updated_at = "offered", now
    row.channel = _deliver(session, row, patient, now, tz)
    append_event(
        session,
        actor=ACTOR,
        action="waitlist.offer",
        entity_type="waitlist_offer",
        entity_id=str(row.id),
        after={
            "entry": entry.id,
            "patient": patient.id,
            "slot": slot.key,
            "freed_by": slot.freed_by,
            "channel": row.channel,
            "rank": rank,
            "score": candidate.score,
            "reasons": list(candidate.reasons),
        },
    )
    return row.id


# --- delivery ----------------------------------------------------------------------------------


def sms_offers_enabled() -> bool:
    """The facility's setting: offers go straight to patients by SMS (ROTA_WAITLIST_SMS=1)."""
    return os.environ.get(SMS_SETTING, "").strip().lower() in {"1", "true", "yes", "on"}


def _deliver(
    session: Session, offer: WaitlistOffer, patient: Patient, now: datetime, tz: Any
) -> str:
    """sms when the facility allows it and the consent pack lets the message go (a refusal is
    audited by `messages.to_patient`); otherwise the patient's case manager offers it."""
    contact = patient.contact or {}
    if sms_offers_enabled() and contact.get("channel") == "sms":
        outcome = messages.to_patient(
            session,
            patient,
            template="waitlist_offer",
            context={"when": messages.when(offer.start, tz)},
            key=f"waitlist-offer:{offer.id}",
            appointment_ids=[],
            now=now,
            purpose="waitlist offer of a freed time",
        )
        if outcome == "queued":
            return "sms"
    if offer.offered_by:
        name = patient.name
        text = (
            f"*Waitlist offer #{offer.id}:* {name} can have "
            f"{offer.session_type_id.replace('_', ' ')} with {_staff_name(session, offer.staff_id)} "
            f"on {messages.when(offer.start, tz)} (rank {offer.rank}, score {offer.score:g}). "
            f'Ask {name.split()[0]}, then reply "accept offer {offer.id}". '
            f"Open until {offer.expires_at.astimezone(tz):%H:%M}; first to accept gets it."
        )
        dm_staff(session, offer.offered_by, text, f"waitlist:offer:{offer.id}", patient.id, now)
    return "case_manager"


def dm_staff(
    session: Session, staff_id: str, text: str, key: str, patient: str, now: datetime
) -> bool:
    """The waitlist's one Slack DM to a staff member, through the one outbox (in the caller's
    transaction); False when they are not on Slack."""
    user = session.scalar(select(Staff.slack_user_id).where(Staff.id == staff_id))
    if not user:
        return False
    payload = {
        "text": PREVIEW,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}],
    }
    audit = {"recipient": staff_id, "channel_type": "im", "patients": [patient]}
    message = outbox.SlackMessage("chat.postMessage", user, None, payload, audit, "waitlist")
    outbox.owe_slack(session, key, [message], now)
    return True


def _staff_name(session: Session, staff_id: str) -> str:
    return session.scalar(select(Staff.name).where(Staff.id == staff_id)) or staff_id


def _tell_taken(session: Session, offer: WaitlistOffer, now: datetime, tz: Any) -> None:
    """The patient (or their case manager) of an offer someone else took hears it, once."""
    patient = session.get(Patient, offer.patient_id)
    if patient is None:
        return
    if offer.channel == "sms":
        messages.to_patient(
            session,
            patient,
            template="waitlist_taken",
            context={"when": messages.when(offer.start, tz)},
            key=f"waitlist-taken:{offer.id}",
            appointment_ids=[],
            now=now,
            purpose="waitlist offer closed",
        )
    elif offer.offered_by:
        dm_staff(
            session,
            offer.offered_by,
            f"Waitlist offer #{offer.id} ({messages.when(offer.start, tz)}) was taken by "
            f"another patient; {patient.name} stays on the waitlist.",
            f"waitlist:taken:{offer.id}",
            patient.id,
            now,
        )


# --- accepting ---------------------------------------------------------------------------------


def accept(db: Database, caller: Caller, cmd: AcceptOffer) -> OfferView:
    """The caller (the case manager, having asked the patient) accepts an offer for them."""
    with db.read() as session:
        patient = session.scalar(
            select(WaitlistOffer.patient_id).where(WaitlistOffer.id == cmd.offer_id)
        )
    if patient is None:
        raise NotFound(f"no waitlist offer {cmd.offer_id}")
    authorize(db, caller, BOOK, patient_id=patient)
    return _accept(db, cmd.offer_id, actor=caller.staff_id, via="staff")


def accept_by_sms(db: Database, patient: str) -> OfferView | None:
    """The patient answered "Y": their newest open SMS offer is accepted, booked by the case
    manager it was offered for. None when they have no open offer. A loser is told by SMS."""
    with db.read() as session:
        row = session.scalars(
            select(WaitlistOffer)
            .where(
                WaitlistOffer.patient_id == patient,
                WaitlistOffer.channel == "sms",
                WaitlistOffer.status == "open",
            )
            .order_by(WaitlistOffer.id.desc())
        ).first()
        if row is None:
            return None
        offer_id, actor = row.id, row.offered_by or ACTOR
    try:
        return _accept(db, offer_id, actor=actor, via="sms")
    except BookingConflict:
        return None  # told "that time was just taken" by SMS; still on the list


def _accept(db: Database, offer_id: int, *, actor: str, via: str) -> OfferView:
    now = now_utc()
    with db.session() as session:
        outcome = _claim(db, session, offer_id, actor, via, now)
    if outcome.view is None:
        raise BookingConflict(outcome.lost or "that time was just taken")
    return outcome.view


def _lock_slot(session: Session, offer_id: int) -> tuple[WaitlistOffer, list[WaitlistOffer]]:
    """The offer and every offer of its slot, locked in id order (PostgreSQL: FOR UPDATE, so a
    second acceptance waits for the first and then sees its outcome; SQLite: the write
    transaction is already serialized by BEGIN IMMEDIATE)."""
    row = session.get(WaitlistOffer, offer_id)
    if row is None:
        raise NotFound(f"no waitlist offer {offer_id}")
    query = (
        select(WaitlistOffer)
        .where(WaitlistOffer.slot_key == row.slot_key)
        .order_by(WaitlistOffer.id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    siblings = list(session.scalars(query))
    return row, siblings


def _claim(
    db: Database, session: Session, offer_id: int, actor: str, via: str, now: datetime
) -> _Accepted:
    offer, siblings = _lock_slot(session, offer_id)
    tz = zone(facility_zone_name(session))
    patient = offer.patient_id
    if offer.status == "accepted":
        return _Accepted(view=offer_view(offer))  # the same acceptance again (a second "Y")
    if offer.status != "open" or offer.expires_at <= now:
        taken = offer.status == "taken" or any(s.status == "accepted" for s in siblings)
        if offer.status == "open":  # past its time: closed now, the patient waits again
            offer.status, offer.decided_at = "expired", now
            _back_to_waiting(session, offer.entry_id, now)
        if via == "sms" and taken:
            _tell_taken(session, offer, now, tz)
        return _Accepted(lost=_lost_words(patient, taken, offer.status))
    slot = _slot_of_offer(offer)
    try:
        with session.begin_nested():
            booked = booking_service(db, session).book(
                actor, _request(slot, patient), reason=f"waitlist offer {offer.id} accepted ({via})"
            )
    except BookingConflict:  # the time went another way (booked directly) or the patient's did
        offer.status, offer.decided_at = "taken", now
        _back_to_waiting(session, offer.entry_id, now)
        if via == "sms":
            _tell_taken(session, offer, now, tz)
        return _Accepted(lost=_lost_words(patient, True, "taken"))
    claimed = session.execute(
        update(WaitlistOffer)
        .where(WaitlistOffer.id == offer.id, WaitlistOffer.status == "open")
        .values(status="accepted", decided_at=now, appointment_id=booked.id)
        .execution_options(synchronize_session="fetch")
    )
    if claimed.rowcount != 1:  # never with the lock held; the conditional update is the backstop
        raise BookingConflict(_lost_words(patient, True, "taken"))
    entry = session.get(WaitlistEntry, offer.entry_id)
    assert entry is not None
    entry.status, entry.appointment_id, entry.updated_at = "booked", booked.id, now
    others = [s for s in siblings if s.id != offer.id and s.status == "open"]
    for other in others:
        other.status, other.decided_at = "taken", now
        _back_to_waiting(session, other.entry_id, now)
        _tell_taken(session, other, now, tz)
    session.flush()
    view = offer_view(offer)
    append_event(
        session,
        actor=actor,
        action="waitlist.accept",
        entity_type="waitlist_offer",
        entity_id=str(offer.id),
        after={
            "patient": patient,
            "appointment": booked.id,
            "via": via,
            "slot": offer.slot_key,
            "closed": [o.id for o in others],
        },
    )
    return _Accepted(view=view)


def _lost_words(patient: str, taken: bool, status: str) -> str:
    if taken:
        return f"that time was just taken; {patient} stays on the waitlist"
    return f"that offer is {status}; {patient} stays on the waitlist"


def _back_to_waiting(session: Session, entry_id: int, now: datetime) -> None:
    """An entry whose offers are all closed is waiting again (unless booked or withdrawn)."""
    entry = session.get(WaitlistEntry, entry_id)
    if entry is None or entry.status != "offered":
        return
    still = session.scalar(
        select(WaitlistOffer.id).where(
            WaitlistOffer.entry_id == entry_id, WaitlistOffer.status == "open"
        )
    )
    if still is None:
        entry.status, entry.updated_at = "waiting", now


def _slot_of_offer(offer: WaitlistOffer) -> Slot:
    return Slot(
        session_type=offer.session_type_id,
        start=offer.start,
        end=offer.end,
        staff=offer.staff_id,
        room=offer.room_id,
        freed_by=offer.freed_by,
    )


# --- expiry ------------------------------------------------------------------------------------


def expire_offers(db: Database, now: datetime) -> dict[str, int]:
    """Close the offers nobody answered by their time; their patients wait again and each slot
    nobody took goes to the next in rank (those offered it before are not asked twice)."""
    with db.session() as session:
        due = list(
            session.scalars(
                select(WaitlistOffer)
                .where(WaitlistOffer.status == "open", WaitlistOffer.expires_at <= now)
                .order_by(WaitlistOffer.id)
            )
        )
        slots: dict[str, tuple[Slot, str]] = {}
        for offer in due:
            offer.status, offer.decided_at = "expired", now
            session.flush()
            _back_to_waiting(session, offer.entry_id, now)
            slots.setdefault(offer.slot_key, (_slot_of_offer(offer), offer.offered_by or ACTOR))
            append_event(
                session,
                actor=ACTOR,
                action="waitlist.expire",
                entity_type="waitlist_offer",
                entity_id=str(offer.id),
                after={"patient": offer.patient_id, "slot": offer.slot_key},
            )
        session.flush()
        made = 0
        for key, (slot, actor) in slots.items():
            asked = list(
                session.scalars(select(WaitlistOffer.entry_id).where(WaitlistOffer.slot_key == key))
            )
            made += len(
                offers_for_freed_slot(db, session, slot, now=now, actor=actor, skip_entries=asked)
            )
    return {"expired": len(due), "offered": made}


# --- views -------------------------------------------------------------------------------------


def entry_view(row: WaitlistEntry) -> EntryView:
    return EntryView(
        id=row.id,
        patient=row.patient_id,
        session_type=row.session_type_id,
        staff=row.staff_id,
        days=tuple(row.days or ()),
        time_from=row.time_from,
        time_until=row.time_until,
        earliest=row.earliest,
        latest=row.latest,
        priority=row.priority,
        note=row.note,
        status=row.status,
        appointment=row.appointment_id,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def offer_view(row: WaitlistOffer) -> OfferView:
    return OfferView(
        id=row.id,
        entry=row.entry_id,
        patient=row.patient_id,
        session_type=row.session_type_id,
        start=row.start,
        end=row.end,
        staff=row.staff_id,
        room=row.room_id,
        channel=row.channel,
        status=row.status,
        rank=row.rank,
        score=row.score,
        reasons=tuple(row.reasons),
        expires_at=row.expires_at,
        appointment=row.appointment_id,
    )


def as_record(view: EntryView | OfferView) -> dict[str, Any]:
    """A view as JSON (dates and times in ISO)."""
    return _record(view)


def _record(view: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in vars(view).items():
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
