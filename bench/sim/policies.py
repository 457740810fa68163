"""The two ways of running the same month: *manual* and *Rota*. Both act only through the real
use cases (assistant.usecases.*, assistant.optimize.offer_slots, assistant.jobs.morning), as the
clinical director, on the same database schema and under the same rules; they differ only in
how they decide.

manual — what a front desk does by hand:
- a request is booked in the earliest free slot with the patient's own clinician (any
  qualified clinician for medication management and case management); no ranking;
- a sick call: the absence is recorded (its repair proposal is set aside), and each of the
  clinician's sessions is cancelled and offered again with the same clinician on another day
  (the earliest free slot in the next 7 days), else it stays cancelled; a group meeting is
  cancelled;
- an emergency walk-in gets the earliest free assessment slot with anyone, today if possible;
- no morning plan, no waitlist, the standard reminders only (sent to everyone, as under Rota).

Rota — what the assistant does:
- a request: the slot finder's best-ranked option (continuity, preferences, spacing, compact
  days, acuity; any qualified clinician);
- every business day at 07:00 the morning job plans the open demand of today and the next two
  business days and books it (ROTA_MORNING_APPLY=1), its solver capped at `morning_seconds`;
- a sick call: the repair proposal (a cover at the same time, else another time) is applied
  by the director; a session it could not place is cancelled (the next mornings' plans may
  place its demand again);
- an emergency walk-in: the soonest safe slot; with none within 30 minutes, the bumps proposal
  (assistant.usecases.emergencies) applied by the director;
- the hooks below, one function each: waitlist refill (unplaced requests waitlisted, a late
  cancellation's offers accepted), risk-based extra reminders, emergency hold-back (held by
  the slot finder and the morning plan; the hook counts the held slots; a walk-in's own search
  may take them); buffers and recurring series are still no-ops.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assistant import no_show
from assistant.dialogue.handlers.find_slot import SOONEST_POOL
from assistant.jobs import morning
from assistant.optimize import SlotsQuery, offer_slots
from assistant.usecases import absences, appointments, capacity, emergencies, waitlist
from clinic.booking import AppointmentView
from clinic.errors import BookingConflict, InvalidInput, NotFound, RuleViolation
from clinic.models import Appointment
from clinic.queries import appointments_between

if TYPE_CHECKING:
    from bench.sim.world import World

REFUSED = (BookingConflict, RuleViolation, InvalidInput, NotFound)
"""What a booking may be refused with; the policy then tries its next option."""
OWN_CLINICIAN_TYPES = frozenset({"individual", "family", "intake_assessment"})
"""Session types a manual scheduler books with the patient's own clinician."""
EMERGENCY_TARGET = timedelta(minutes=30)
EMERGENCY_HORIZON = timedelta(hours=4)  # as the emergency conversation looks
REBOOK_WITHIN = timedelta(days=7)
INTAKE_WITHIN = timedelta(days=14)
SICK = "the clinician is out sick and nobody covers the session"
"""The director's override when a sick call's cancellation leaves a patient below their band."""
EVERY_OPTION = 400
"""k for a first-fit look: every free slot of one clinician in a week or two."""


@dataclass
class Policy(ABC):
    """What both policies share; `request`, `emergency` and `sick_call` are each policy's own."""

    name: str = "policy"
    tally: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        self.tally[key] = self.tally.get(key, 0) + n

    def timed(self, key: str, began: float) -> None:
        self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - began

    # Each step the engine asks of a policy ---------------------------------------------------

    def morning(self, world: World) -> None:  # noqa: B027  (by hand, nothing happens at 07:00)
        """07:00 each business day."""

    @abstractmethod
    def request(
        self, world: World, patient: str, session_type: str, start: datetime, end: datetime
    ) -> AppointmentView | None:
        """A session of `session_type` for `patient` between `start` and `end`, booked or None."""

    def intake(self, world: World, patient: str, arrival: datetime) -> AppointmentView | None:
        """A referral's first session (an intake assessment), from the day after the call on
        (the patient needs notice), within two weeks."""
        first = world.next_morning(arrival)
        return self.request(world, patient, "intake_assessment", first, first + INTAKE_WITHIN)

    @abstractmethod
    def emergency(self, world: World, patient: str, arrival: datetime) -> AppointmentView | None:
        """A walk-in's assessment, as soon as the policy can, booked or None."""

    @abstractmethod
    def sick_call(self, world: World, staff: str, start: datetime, end: datetime) -> None:
        """`staff` is out from `start` to `end`: what happens to their sessions."""

    def freed(self, world: World, appointment: AppointmentView, patient: str) -> int:
        """A session a patient cancelled late: how many places a waitlist refilled."""
        return 0

    def reminded(self, world: World, day: int) -> set[tuple[str, str]]:
        """(appointment, patient) places of day `day` that get an extra, risk-targeted reminder
        (on top of the standard reminders every policy sends)."""
        return set()

    # Shared mechanics ------------------------------------------------------------------------

    def options(
        self,
        world: World,
        patient: str,
        session_type: str,
        start: datetime,
        end: datetime,
        *,
        staff: str | None = None,
        k: int = 3,
        emergency: bool = False,
    ) -> list[Any]:
        """The slot finder's options; `emergency` lets them take the slots held back for
        emergencies (an emergency's own search, and every search of the manual desk, which
        holds nothing back)."""
        began = time.perf_counter()
        try:
            answer, built = offer_slots(
                world.db,
                SlotsQuery(
                    patient, session_type, start, end, staff=staff, k=k, emergency=emergency
                ),
                now=world.now,
            )
        except REFUSED:
            return []
        finally:
            self.timed("slot_finder", began)
        self.count("slot_searches")
        clock = built.clock
        return [
            (clock.moment(o.start), o)
            for o in answer.options
            if start <= clock.moment(o.start) and clock.moment(o.end) <= end
        ]

    def book_first(
        self, world: World, patient: str, session_type: str, choices: list[Any], why: str
    ) -> AppointmentView | None:
        """Book the first of `choices` the booking service accepts."""
        for moment, option in choices[:5]:
            try:
                booked = appointments.book(
                    world.db,
                    world.director,
                    appointments.Book(
                        session_type=session_type,
                        start=moment,
                        staff=tuple(option.staff),
                        patients=(patient,),
                        room=option.room,
                        reason=why,
                    ),
                )
            except REFUSED:
                self.count("bookings_refused")
                continue
            self.count("booked")
            return booked
        self.count("requests_unplaced")
        return None

    def sessions_of(self, world: World, staff: str, start: datetime, end: datetime) -> list[Any]:
        with world.db.read() as session:
            rows = appointments_between(session, start, end, staff=staff, include_cancelled=False)
        return [r for r in rows if r.status in ("booked", "checked_in") and r.start >= world.now]


class Manual(Policy):
    def __init__(self) -> None:
        super().__init__("manual")

    def earliest(
        self,
        world: World,
        patient: str,
        session_type: str,
        start: datetime,
        end: datetime,
        staff: str | None,
    ) -> list[Any]:
        found = self.options(
            world, patient, session_type, start, end, staff=staff, k=EVERY_OPTION, emergency=True
        )  # no hold-back by hand: every free slot is taken in turn
        return sorted(found, key=lambda pair: (pair[0], pair[1].staff))

    def request(
        self, world: World, patient: str, session_type: str, start: datetime, end: datetime
    ) -> AppointmentView | None:
        own = world.primary.get(patient) if session_type in OWN_CLINICIAN_TYPES else None
        choices = self.earliest(world, patient, session_type, start, end, own)
        return self.book_first(world, patient, session_type, choices, "first free slot")

    def emergency(self, world: World, patient: str, arrival: datetime) -> AppointmentView | None:
        close = world.closing(arrival)
        choices = self.earliest(world, patient, "intake_assessment", arrival, close, None)
        if not choices:  # nothing today: the first free slot of the next days
            choices = self.earliest(
                world, patient, "intake_assessment", close, close + timedelta(days=3), None
            )
        return self.book_first(world, patient, "intake_assessment", choices, "walk-in")

    def sick_call(self, world: World, staff: str, start: datetime, end: datetime) -> None:
        proposal = absences.report_absence(
            world.db,
            world.director,
            absences.ReportAbsence(staff, start, end, world.now, reason="sick"),
        )
        absences.reject_proposal(world.db, world.director, absences.RejectProposal(proposal["id"]))
        for row in self.sessions_of(world, staff, start, end):
            try:
                appointments.cancel(
                    world.db,
                    world.director,
                    appointments.Cancel(row.id, reason=f"{staff} out sick", override_reason=SICK),
                )
            except REFUSED:
                self.count("sick_cancel_refused")
                continue
            self.count("sick_cancelled")
            if len(row.patients) != 1:
                continue  # a group meeting is not moved by hand
            patient = row.patients[0]
            choices = self.earliest(
                world, patient, row.session_type, end, end + REBOOK_WITHIN, staff
            )
            if self.book_first(world, patient, row.session_type, choices, "rebooked after sick"):
                self.count("sick_rebooked")


class Rota(Policy):
    def __init__(self, morning_seconds: float = 5.0) -> None:
        super().__init__("rota")
        self.morning_seconds = morning_seconds

    def morning(self, world: World) -> None:
        emergency_hold_back(world, self)
        began = time.perf_counter()
        try:
            done = morning.run(
                world.db, world.now, morning.Settings(seconds=self.morning_seconds, apply=True)
            )
        except REFUSED:  # the booking service refused the plan (all or nothing): none booked
            self.count("morning_refused")
            done = {}
        self.timed("morning", began)
        self.count("morning_booked", done.get("booked", 0))
        buffers(world, self)

    def request(
        self, world: World, patient: str, session_type: str, start: datetime, end: datetime
    ) -> AppointmentView | None:
        choices = self.options(world, patient, session_type, start, end, k=3)
        booked = self.book_first(world, patient, session_type, choices, "slot finder")
        if booked is None:
            wait(world, self, patient, session_type, start)
        return booked

    def emergency(self, world: World, patient: str, arrival: datetime) -> AppointmentView | None:
        choices = self.options(
            world,
            patient,
            "intake_assessment",
            arrival,
            arrival + EMERGENCY_HORIZON,
            k=SOONEST_POOL,
            emergency=True,
        )
        choices.sort(key=lambda pair: (pair[0], pair[1].staff))
        soon = [c for c in choices if c[0] <= arrival + EMERGENCY_TARGET]
        if soon:
            return self.book_first(world, patient, "intake_assessment", soon, "walk-in")
        bumped = self.bump(world, patient, arrival)
        if bumped is not None:
            return bumped
        if not choices:  # nothing in the next hours: the soonest of the next days
            close = world.closing(arrival)
            choices = self.options(
                world,
                patient,
                "intake_assessment",
                close,
                close + timedelta(days=3),
                k=SOONEST_POOL,
                emergency=True,
            )
            choices.sort(key=lambda pair: (pair[0], pair[1].staff))
        return self.book_first(world, patient, "intake_assessment", choices, "walk-in")

    def bump(self, world: World, patient: str, arrival: datetime) -> AppointmentView | None:
        """The bumps that make room within 30 minutes, applied by the director."""
        began = time.perf_counter()
        try:
            proposal = emergencies.propose_bumps(
                world.db,
                world.director,
                emergencies.ProposeBumps(
                    patient,
                    "intake_assessment",
                    arrival,
                    arrival + EMERGENCY_TARGET + timedelta(minutes=1),
                    world.now,
                ),
            )
            if proposal is None:
                return None
            outcome = absences.apply_proposal(
                world.db, world.director, absences.ApplyProposal(proposal["id"])
            )
        except REFUSED:
            self.count("bumps_refused")
            return None
        finally:
            self.timed("bump", began)
        self.count("emergency_bumped", outcome.get("moved", 0) + outcome.get("cancelled", 0))
        return appointments.current(world.db, outcome["booked"]["appointment"])

    def sick_call(self, world: World, staff: str, start: datetime, end: datetime) -> None:
        began = time.perf_counter()
        proposal = absences.report_absence(
            world.db,
            world.director,
            absences.ReportAbsence(staff, start, end, world.now, reason="sick"),
        )
        self.timed("repair", began)
        try:
            outcome = absences.apply_proposal(
                world.db, world.director, absences.ApplyProposal(proposal["id"])
            )
            self.count("sick_moved", outcome["moved"])
            unplaced = [u["appointment"] for u in outcome["unplaced"]]
        except REFUSED:  # the repair no longer fits: set it aside, cancel what is left
            absences.reject_proposal(
                world.db, world.director, absences.RejectProposal(proposal["id"])
            )
            self.count("repairs_refused")
            unplaced = [r.id for r in self.sessions_of(world, staff, start, end)]
        for appointment_id in unplaced:
            try:
                appointments.cancel(
                    world.db,
                    world.director,
                    appointments.Cancel(
                        appointment_id, reason=f"{staff} out sick, no cover", override_reason=SICK
                    ),
                )
                self.count("sick_cancelled")
            except REFUSED:
                self.count("sick_cancel_refused")

    def freed(self, world: World, appointment: AppointmentView, patient: str) -> int:
        return waitlist_refill(world, self, appointment, patient)

    def reminded(self, world: World, day: int) -> set[tuple[str, str]]:
        return risk_reminders(world, self, day)


# --- the hooks: one function each, no-ops until their modules exist ----------------------------


def waitlist_refill(world: World, policy: Policy, freed: AppointmentView, patient: str) -> int:
    """A place freed by a late cancellation, refilled from the waitlist.

    The late cancellation (appointments.cancel, late) already made its offers through
    assistant.usecases.waitlist.offer_freed (the best-ranked waiting patients the slot suits,
    none when it starts within the hour); the case manager accepts for the top-ranked one in one
    click (waitlist.accept), else the next. Returns 1 when an accepted offer booked a session
    that the database holds as booked (what the engine adds to `waitlist_refilled`), else 0."""
    offers = [
        o
        for o in waitlist.offers(world.db, world.director, waitlist.ListOffers())
        if o.start == freed.start and freed.staff and o.staff == freed.staff[0]
    ]
    policy.count("waitlist_offers", len(offers))
    for offer in sorted(offers, key=lambda o: o.rank):
        try:
            taken = waitlist.accept(world.db, world.director, waitlist.AcceptOffer(offer.id))
        except REFUSED:
            policy.count("waitlist_accept_refused")
            continue
        if taken.appointment is None:
            continue
        booked = appointments.current(world.db, taken.appointment)
        if booked.outcome_of(offer.patient) == "booked":
            policy.count("waitlist_refilled")
            return 1
    return 0


def wait(world: World, policy: Policy, patient: str, session_type: str, start: datetime) -> None:
    """A patient the policy could not place goes on the waitlist for that session type, from
    the day asked for (one open entry per patient and type: a second is refused, and kept)."""
    try:
        waitlist.add(
            world.db,
            world.director,
            waitlist.AddEntry(
                patient,
                session_type,
                earliest=start.astimezone(world.tz).date(),
                note="behind their weekly minimum"
                if session_type != "intake_assessment"
                else "referral waiting for an intake",
            ),
        )
    except REFUSED:
        policy.count("waitlist_already")
        return
    policy.count("waitlisted")


def risk_reminders(world: World, policy: Policy, day: int) -> set[tuple[str, str]]:
    """The places of day `day` whose predicted no-show risk earns an extra reminder.

    assistant.no_show's risk (through `no_show_probabilities`, lead time from booking, the
    session's own staff) of every place still booked today; those at or above
    no_show.EXTRA_REMINDER_FROM get one (counted as `extra_reminders`), and the engine lowers
    their risk by events.REMINDER_EFFECT on the same draws."""
    start, end = world.bounds(day)
    with world.db.read() as session:
        rows = session.scalars(
            select(Appointment)
            .where(Appointment.start >= start, Appointment.start < end)
            .options(selectinload(Appointment.patient_links))
        ).all()
        risks = no_show.appointment_risks(session, rows, world.now)
    chosen = {
        (appointment, patient)
        for appointment, by_patient in risks.items()
        for patient, risk in by_patient.items()
        if no_show.needs_extra_reminder(risk)
    }
    policy.count("extra_reminders", len(chosen))
    return chosen


def buffers(world: World, policy: Policy) -> None:
    """Over-enrolment and buffers from predicted attendance.

    Will call assistant.no_show for each group's expected attendance and enrol up to capacity ×
    expected attendance from the waitlist (assistant.usecases.waitlist), after the morning plan.
    Does nothing until those modules exist."""


def emergency_hold_back(world: World, policy: Policy) -> None:
    """Assessment slots held back for emergency and same-day admissions, today.

    Nothing to apply: the slot finder (assistant.optimize.offer_slots, every request but an
    emergency's) and the morning plan hold them already, from assistant.usecases.capacity's
    count of same-day intake assessments in the weeks before this one (in the simulation the
    walk-ins' assessments, booked the day they arrive). This reads today's held slots
    (capacity.week) and counts them (`held_slots`, and `held_slots_released` of those already
    released at 07:00) so the figures show what the hold-back did."""
    today = world.now.astimezone(world.tz).date()
    shown = capacity.week(world.db, world.director, capacity.Week(today, world.now))
    for d in shown["days"]:
        if d["date"] == today.isoformat():
            policy.count("held_slots", len(d["held"]))
            policy.count("held_slots_released", sum(h["status"] == "released" for h in d["held"]))


def standing_series(world: World, policy: Policy, patient: str, session_type: str) -> bool:
    """Whether a recurring series already covers the patient's weekly sessions of this type.

    Will call the recurring-series use case ("every Tuesday at 2 pm for 8 weeks", booked at
    admission), so the weekly round asks only for what a series does not cover. False (nothing
    covered) until it exists."""
    return False
