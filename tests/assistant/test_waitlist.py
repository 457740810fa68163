"""The waitlist: a cancellation offers the freed time to the best-ranked waiting patients (each
re-checked by the booking's own rules), over SMS only where the facility and the patient's
consent allow, the first to accept books it, and an offer nobody answers moves on.

The demo 's' facility, Mon 30 Nov 2026 08:30 New York. The freed slot: Amanda Diaz (c003),
Tue 1 Dec 13:00-13:45, individual (appointment a00214 of p0001).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from assistant import callers
from assistant.usecases import appointments, outbox, paperwork, waitlist
from clinic.db import Database
from clinic.errors import BookingConflict, PermissionDenied
from clinic.models import (
    Appointment,
    AppointmentPatient,
    AppointmentStaff,
    AuditEvent,
    Patient,
)
from clinic.outbox_models import OutboxMessage
from clinic.waitlist_models import WaitlistEntry, WaitlistOffer
from tests.assistant.conftest import DIRECTOR, NOW, NY, THERAPIST

FREED = "a00214"
SLOT = datetime(2026, 12, 1, 13, 0, tzinfo=NY)


def put_on_list(
    db: Database, set_now: Callable[[datetime], None], *patients: str, at: datetime = NOW
) -> list[int]:
    set_now(at)
    director = callers.for_staff(db, DIRECTOR)
    ids = [waitlist.add(db, director, waitlist.AddEntry(p, "individual")).id for p in patients]
    set_now(NOW)
    return ids


def cancel_the_slot(db: Database) -> None:
    director = callers.for_staff(db, DIRECTOR)
    appointments.cancel(
        db,
        director,
        appointments.Cancel(FREED, "patient in hospital", override_reason="patient in hospital"),
    )


def open_offers(db: Database) -> list[waitlist.OfferView]:
    return waitlist.offers(db, callers.for_staff(db, DIRECTOR), waitlist.ListOffers())


def booked_at_slot(db: Database) -> list[str]:
    with db.read() as session:
        return list(
            session.scalars(
                select(AppointmentPatient.patient_id)
                .join(Appointment, Appointment.id == AppointmentPatient.appointment_id)
                .join(AppointmentStaff, AppointmentStaff.appointment_id == Appointment.id)
                .where(Appointment.start == SLOT, Appointment.active)
                .where(AppointmentStaff.staff_id == "c003")
            )
        )


def test_the_ranking_weighs_court_orders_acuity_priority_waiting_and_attendance() -> None:
    base = waitlist.PriorityInputs(
        acuity=3, acuity_source="acuity", court_order_due=False, days_waiting=0,
        no_show_probability=0.25,
    )  # fmt: skip
    court = waitlist.rank_score(base.__class__(**{**vars(base), "court_order_due": True}))
    acute = waitlist.rank_score(base.__class__(**{**vars(base), "acuity": 5}))
    waited = waitlist.rank_score(base.__class__(**{**vars(base), "days_waiting": 90}))
    reliable = waitlist.rank_score(base.__class__(**{**vars(base), "no_show_probability": 0.0}))
    plain = waitlist.rank_score(base)
    assert court[0] > acute[0] > plain[0] and waited[0] > plain[0] and reliable[0] > plain[0]
    # Waiting counts up to 30 days only: 90 days is worth what 30 are.
    assert waited[0] == waitlist.rank_score(base.__class__(**{**vars(base), "days_waiting": 30}))[0]
    terms = {r["term"]: r for r in court[1]}
    assert list(terms) == [
        "court_order_due", "acuity", "priority", "days_waiting", "expected_attendance",
    ]  # fmt: skip
    assert terms["court_order_due"]["points"] == 40 and terms["acuity"]["points"] == 18
    assert terms["expected_attendance"]["value"] == 0.75
    assert waitlist.acuity_of_level("3.7-WM") == 4 and waitlist.acuity_of_level(None) == 1


def test_a_cancellation_offers_the_time_to_the_best_ranked_with_reasons(
    demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    # p0016 (acuity 1) has waited since October; p0028 (acuity 5) since today; p0053 (acuity 1)
    # is court-ordered to two individual sessions a week and has one; p0009 needs a MAT
    # clinician (STF-NEEDS), so the booking's rules keep the time from them.
    order = {
        "case_number": "CR-2026-000001",
        "court": "Hudson County Superior Court",
        "start": "2026-09-01",
        "end": "2027-09-01",
        "requirements": [{"session_type": "individual", "per_week": 2}],
        "liaison": "s006",
        "report_to": "probation officer",
    }
    set_now(NOW)
    paperwork.add_court_order(
        demo_db, callers.for_staff(demo_db, DIRECTOR), paperwork.AddCourtOrder("p0053", order)
    )
    put_on_list(demo_db, set_now, "p0016", at=NOW - timedelta(days=60))
    put_on_list(demo_db, set_now, "p0028", "p0053", "p0009")
    cancel_the_slot(demo_db)
    offers = sorted(open_offers(demo_db), key=lambda o: o.rank)
    assert [(o.patient, o.rank) for o in offers] == [("p0053", 1), ("p0016", 2), ("p0028", 3)]
    why = {o.patient: {r["term"]: r["value"] for r in o.reasons} for o in offers}
    assert why["p0053"]["court_order_due"] is True and why["p0028"]["court_order_due"] is False
    assert why["p0016"]["days_waiting"] == 60 and why["p0028"]["acuity"] == "5 (acuity)"
    assert offers[0].score > offers[1].score > offers[2].score
    assert offers[0].start == SLOT and offers[0].staff == "c003"
    assert all(o.channel == "case_manager" for o in offers)
    # The court-ordered patient's offer goes to their liaison (s006) as a Slack DM.
    with demo_db.read() as session:
        dm = session.scalar(
            select(OutboxMessage).where(OutboxMessage.key == f"waitlist:offer:{offers[0].id}:0")
        )
        assert dm is not None and dm.channel == "slack"
        assert dm.extra["audit"]["recipient"] == "s006"
        blocks = dm.context["payload"]["blocks"]
        assert f"accept offer {offers[0].id}" in blocks[0]["text"]["text"]
        entries = {e.patient_id: e.status for e in session.scalars(select(WaitlistEntry))}
    assert entries == {
        "p0016": "offered",
        "p0028": "offered",
        "p0053": "offered",
        "p0009": "waiting",
    }


def test_sms_offers_only_with_consent_and_a_refusal_is_audited(
    demo_db: Database, set_now: Callable[[datetime], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(waitlist.SMS_SETTING, "1")
    put_on_list(demo_db, set_now, "p0041", "p0040")  # both chose SMS; p0040 did not consent
    cancel_the_slot(demo_db)
    channels = {o.patient: o.channel for o in open_offers(demo_db)}
    assert channels == {"p0041": "sms", "p0040": "case_manager"}
    with demo_db.read() as session:
        sms = {m.patient_id: m for m in session.scalars(select(OutboxMessage))}
        refused = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "disclosure.refused", AuditEvent.entity_id == "p0040"
            )
        ).all()
        assert sms["p0041"].status == "pending" and sms["p0041"].template == "waitlist_offer"
        assert sms["p0040"].status == "refused" and sms["p0040"].context == {}
        assert len(refused) == 1 and "PRIV-REMINDER-OPT-IN" in str(refused[0].decision)
        words = waitlist_text(sms["p0041"])
    assert "Reply Y" in words and "Tue 01 Dec at 13:00" in words
    assert not any(w in words.lower() for w in ("addiction", "substance", "treatment", "therapy"))


def waitlist_text(row: OutboxMessage) -> str:
    from assistant import outbox as the_outbox

    return the_outbox.render(row).body


def test_a_yes_by_sms_books_the_offer_and_the_others_are_told(
    demo_db: Database, set_now: Callable[[datetime], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(waitlist.SMS_SETTING, "1")
    put_on_list(demo_db, set_now, "p0041", "p0034")
    cancel_the_slot(demo_db)
    with demo_db.read() as session:
        phone = session.get(Patient, "p0041").contact["phone"]  # type: ignore[union-attr]
    outbox.record_reply(demo_db, outbox.RecordReply(phone=phone, body=" Yes ", message_id="SM9"))
    assert booked_at_slot(demo_db) == ["p0041"]
    with demo_db.read() as session:
        offers = {o.patient_id: o.status for o in session.scalars(select(WaitlistOffer))}
        entries = {e.patient_id: e.status for e in session.scalars(select(WaitlistEntry))}
        told = session.scalar(
            select(OutboxMessage.patient_id).where(OutboxMessage.template == "waitlist_taken")
        )
    assert offers == {"p0041": "accepted", "p0034": "taken"}
    assert entries == {"p0041": "booked", "p0034": "waiting"}
    assert told == "p0034"


def test_an_offer_nobody_answers_expires_and_the_next_in_rank_gets_the_time(
    demo_db: Database, set_now: Callable[[datetime], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(waitlist, "OFFERS_PER_SLOT", 1)
    put_on_list(demo_db, set_now, "p0041", "p0016")  # acuity 4 first, then acuity 1
    cancel_the_slot(demo_db)
    [first] = open_offers(demo_db)
    assert first.patient == "p0041" and first.expires_at == NOW + waitlist.OFFER_TTL
    assert waitlist.expire_offers(demo_db, NOW + timedelta(hours=1)) == {"expired": 0, "offered": 0}
    later = NOW + timedelta(hours=2, minutes=5)
    set_now(later)
    assert waitlist.expire_offers(demo_db, later) == {"expired": 1, "offered": 1}
    [second] = open_offers(demo_db)
    assert second.patient == "p0016" and second.rank == 1
    director = callers.for_staff(demo_db, DIRECTOR)
    with pytest.raises(BookingConflict, match="that offer is expired"):
        waitlist.accept(demo_db, director, waitlist.AcceptOffer(first.id))
    [again] = waitlist.entries(demo_db, director, waitlist.ListEntries(patient="p0041"))
    assert again.status == "waiting"  # back on the list, not asked twice for the same time
    assert waitlist.accept(demo_db, director, waitlist.AcceptOffer(second.id)).status == "accepted"
    assert booked_at_slot(demo_db) == ["p0016"]


def test_two_accepting_at_once_book_one_and_the_other_stays_on_the_list(
    any_demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    db = any_demo_db
    put_on_list(db, set_now, "p0041", "p0034")
    cancel_the_slot(db)
    offers = open_offers(db)
    assert len(offers) == 2
    director = callers.for_staff(db, DIRECTOR)
    start = threading.Barrier(2)
    results: dict[int, object] = {}

    def take(offer_id: int) -> None:
        start.wait()
        try:
            results[offer_id] = waitlist.accept(db, director, waitlist.AcceptOffer(offer_id))
        except BookingConflict as exc:
            results[offer_id] = exc

    threads = [threading.Thread(target=take, args=(o.id,)) for o in offers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results.values() if isinstance(r, waitlist.OfferView)]
    lost = [r for r in results.values() if isinstance(r, BookingConflict)]
    assert len(won) == 1 and len(lost) == 1, results
    assert "that time was just taken" in str(lost[0]) and "stays on the waitlist" in str(lost[0])
    assert booked_at_slot(db) == [won[0].patient]
    loser = next(o.patient for o in offers if o.patient != won[0].patient)
    [entry] = waitlist.entries(db, director, waitlist.ListEntries(patient=loser))
    assert entry.status == "waiting"


def test_only_who_may_book_for_the_patient_sees_or_accepts_their_offer(
    demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    put_on_list(demo_db, set_now, "p0041")  # Amanda Diaz's (c003) patient
    cancel_the_slot(demo_db)
    other = callers.for_staff(demo_db, THERAPIST)  # Brian Romero (c004)
    assert waitlist.offers(demo_db, other, waitlist.ListOffers()) == []
    [offer] = open_offers(demo_db)
    with pytest.raises(PermissionDenied):
        waitlist.accept(demo_db, other, waitlist.AcceptOffer(offer.id))


def test_a_move_and_a_late_cancellation_free_their_times_too(
    demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    put_on_list(demo_db, set_now, "p0041")
    director = callers.for_staff(demo_db, DIRECTOR)
    moved = appointments.move(
        demo_db,
        director,
        appointments.Move(FREED, "patient asked", start=SLOT + timedelta(days=1, hours=1)),
    )
    assert moved.start != SLOT
    [offer] = open_offers(demo_db)
    assert (offer.patient, offer.start, offer.staff) == ("p0041", SLOT, "c003")
    assert waitlist.accept(demo_db, director, waitlist.AcceptOffer(offer.id)).appointment
    # Amanda Diaz's first individual session on Wednesday, cancelled late: p0016 is offered it.
    put_on_list(demo_db, set_now, "p0016")
    with demo_db.read() as session:
        wednesday = session.scalars(
            select(Appointment)
            .join(AppointmentStaff, AppointmentStaff.appointment_id == Appointment.id)
            .where(
                AppointmentStaff.staff_id == "c003",
                Appointment.session_type_id == "individual",
                Appointment.start > SLOT + timedelta(hours=12),
                Appointment.active,
            )
            .order_by(Appointment.start)
        ).first()
        assert wednesday is not None
        freed, freed_start = wednesday.id, wednesday.start
    appointments.cancel(
        demo_db,
        director,
        appointments.Cancel(freed, "called at 7am", late=True, override_reason="ill"),
    )
    [late] = open_offers(demo_db)
    assert (late.patient, late.start) == ("p0016", freed_start)
