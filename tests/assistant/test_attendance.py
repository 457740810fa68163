"""Attendance through the dialogue entry (the one Slack and /api/chat use), on the demo 's'
facility, Mon 30 Nov 2026: check-in, attended, no-show, late cancel, a whole day at once, the
unmarked list, a late patient's knock-on; who may mark what; units and the court report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant import callers
from assistant.court_report import court_report
from assistant.dialogue import Dialogue
from assistant.dialogue.reply import Reply
from assistant.reports import authorization_usage
from clinic.booking import BookingService
from clinic.db import Database
from clinic.models import Appointment, AuditEvent, Authorization, Proposal
from tests.assistant.conftest import DIRECTOR, FRONT_DESK, NY, OTHER_THERAPIST, THERAPIST

# Today's sessions of the demo (ids are the demo's own, seed 7).
KEVIN_0800 = "a00216"  # Kevin Fowler (court-ordered), individual with Brian Romero (c004)
CAROL_0800 = "a00305"  # Carol Ingram (authorization AUTH-7884507), with Chad Davis (c006)
ANGELA = ("a00258", "a00257")  # Angela Cole 08:30 with Drew Wilson, 11:30 with Dr. Hamilton
HAMILTON = ("a00293", "a00257", "a00225", "a00277")  # c005: 10:00, 11:30, 13:00, 16:00
CYNTHIA_1400 = "a00267"  # Cynthia Washington with Brian Romero in Individual room 1
ERNEST_1500, MICHAEL_1600 = "a00220", "a00234"  # later sessions in Individual room 1
GROUP_1530 = "a00012"  # Brian Romero's group, 8 members


def at(hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 11, 30, hour, minute, tzinfo=NY)


@pytest.fixture()
def clock(set_now: Callable[[datetime], None]) -> Callable[[str], datetime]:
    """The booking service's clock set with the dialogue's: an outcome may be recorded only once
    a session has started, and the demo's day is fixed."""

    def set_to(hhmm: str) -> datetime:
        moment = at(hhmm)
        set_now(moment)
        return moment

    return set_to


class Chat:
    def __init__(self, db: Database, staff: str, now: datetime) -> None:
        self.db, self.dialogue = db, Dialogue(db, clock=lambda: now)
        self.caller = callers.for_staff(db, staff)
        self.conversation: str | None = None

    def says(self, message: str) -> Reply:
        reply = self.dialogue.handle(self.caller, message, self.conversation)
        self.conversation = reply.conversation_id
        return reply


def status(db: Database, appointment_id: str) -> str:
    with db.read() as session:
        row = session.get(Appointment, appointment_id)
        assert row is not None
        return row.status


def row(db: Database, appointment_id: str) -> Any:
    with db.read() as session:
        found = session.get(Appointment, appointment_id)
        assert found is not None
        session.expunge(found)
        return found


def audit_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


# --- one session ------------------------------------------------------------------------------


def test_a_therapist_checks_a_patient_in_then_marks_the_session_attended(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    chat = Chat(demo_db, THERAPIST, clock("08:10"))
    reply = chat.says("Kevin checked in")
    assert reply.reply.startswith("Checked in Kevin Fowler:")
    assert (
        reply.frame and reply.frame["intent"] == "unknown" and reply.frame["action"] == "check_in"
    )
    assert status(demo_db, KEVIN_0800) == "checked_in"
    assert chat.says("Kevin attended").reply.startswith("Marked attended Kevin Fowler")
    assert status(demo_db, KEVIN_0800) == "attended"
    with demo_db.read() as session:
        actors = session.scalars(
            select(AuditEvent.actor).where(
                AuditEvent.entity_id == KEVIN_0800, AuditEvent.action == "appointment.set_status"
            )
        ).all()
    assert actors == [THERAPIST, THERAPIST]


def test_my_time_names_the_callers_own_session(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    chat = Chat(demo_db, THERAPIST, clock("08:50"))
    reply = chat.says("mark my 8am a no-show")
    assert reply.reply.startswith("Marked a no-show Kevin Fowler")
    assert status(demo_db, KEVIN_0800) == "no_show"
    # Nothing of the caller's at that time: said so, nothing written.
    before = audit_count(demo_db)
    assert "no session for you at 09:00" in chat.says("mark my 9am attended").reply
    assert audit_count(demo_db) == before


def test_two_started_sessions_of_a_patient_are_asked_about_with_numbers(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    chat = Chat(demo_db, DIRECTOR, clock("12:30"))
    question = chat.says("Angela attended")
    assert "Which session?" in question.reply
    assert "1. Angela Cole:" in question.reply and "2. Angela Cole:" in question.reply
    assert [a["message"] for a in question.actions] == ["option 1", "option 2"]
    assert {status(demo_db, a) for a in ANGELA} == {"booked"}, "nothing written before the pick"
    done = chat.says("2")  # the list is nearest-first: 11:30, then 08:30
    assert done.reply.startswith("Marked attended Angela Cole") and "08:30" in done.reply
    assert [status(demo_db, a) for a in ANGELA] == ["attended", "booked"]


def test_a_late_cancellation_asks_first_and_a_group_member_is_cancelled_alone(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    chat = Chat(demo_db, DIRECTOR, clock("07:30"))
    question = chat.says("Carol cancelled late for today's session")
    assert question.reply.startswith("Record a late cancellation for Carol Ingram")
    assert status(demo_db, CAROL_0800) == "booked"
    # The level-of-care rule asks for a reason to leave her week short; it is given.
    assert "LOC-BELOW-BAND" in chat.says("yes").reply
    assert status(demo_db, CAROL_0800) == "booked"
    done = chat.says("override: flu, make-up booked for Wednesday")
    assert done.reply.startswith("Recorded a late cancellation of Carol Ingram")
    assert status(demo_db, CAROL_0800) == "late_cancelled"
    # In a group, one member's late cancellation is theirs alone: the session goes on.
    before = audit_count(demo_db)
    question = chat.says("Bruce cancelled late for today's group").reply
    assert question.startswith("Record a late cancellation for Bruce Barnes: group counseling")
    assert audit_count(demo_db) == before, "nothing before 'yes'"
    # The same rules judge his week as hers: his cancellation leaves him short too.
    assert "LOC-BELOW-BAND: Cancelling leaves Bruce Barnes" in chat.says("yes").reply
    assert audit_count(demo_db) == before
    done = chat.says("override: family emergency, make-up booked")
    assert done.reply.startswith("Recorded a late cancellation of Bruce Barnes")
    with demo_db.read() as session:
        group = session.get(Appointment, GROUP_1530)
        assert group is not None and (group.status, group.active) == ("booked", True)
        assert group.outcomes == {"p0011": "late_cancelled"}, "Bruce's alone"
        bruce = next(link for link in group.patient_links if link.patient_id == "p0011")
        assert not bruce.active, "his time is free; the group's is not"


# --- a whole day ------------------------------------------------------------------------------


def test_a_whole_day_is_previewed_then_written_with_one_patient_left_out(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    chat = Chat(demo_db, "c005", clock("16:50"))
    preview = chat.says("all my sessions today were attended except Angela's")
    assert preview.reply.startswith("Record these 3 session(s) at once?")
    assert "Left unmarked:\n- Angela Cole:" in preview.reply and "(excepted)" in preview.reply
    assert {status(demo_db, a) for a in HAMILTON} == {"booked"}, "nothing before 'yes'"
    assert chat.says("yes").reply == "Recorded 3 session(s); 1 left unmarked."
    assert [status(demo_db, a) for a in HAMILTON] == ["attended", "booked", "attended", "attended"]
    assert status(demo_db, "a00015") == "booked", "the 17:00 group has not started"


def test_yes_writes_only_what_the_preview_showed(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    preview = Chat(demo_db, "c005", clock("12:00"))
    assert preview.says("all my sessions today were attended").reply.startswith(
        "Record these 2 session(s) at once?"
    )
    later = Chat(demo_db, "c005", clock("16:50"))  # the same conversation, answered late
    later.conversation = preview.conversation
    assert later.says("yes").reply == "Recorded 2 session(s)."
    assert [status(demo_db, a) for a in HAMILTON] == ["attended", "attended", "booked", "booked"]


def test_a_whole_day_marks_the_named_patient_a_no_show_when_said(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    chat = Chat(demo_db, "c005", clock("16:50"))
    preview = chat.says("all my sessions today were attended except Angela who no-showed")
    assert "Angela Cole:" in preview.reply and ": a no-show" in preview.reply
    chat.says("yes")
    assert [status(demo_db, a) for a in HAMILTON] == ["attended", "no_show", "attended", "attended"]


def test_a_whole_day_is_one_transaction(
    demo_db: Database, clock: Callable[[str], datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Chat(demo_db, "c005", clock("16:50"))
    chat.says("all my sessions today were attended except Angela's")
    real = BookingService.set_status
    calls: list[str] = []

    def third_fails(
        self: BookingService, actor: str, appointment_id: str, *a: Any, **k: Any
    ) -> Any:
        calls.append(appointment_id)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(self, actor, appointment_id, *a, **k)

    monkeypatch.setattr(BookingService, "set_status", third_fails)
    with pytest.raises(RuntimeError):
        chat.says("yes")
    assert {status(demo_db, a) for a in HAMILTON} == {"booked"}


# --- what is still unmarked --------------------------------------------------------------------


def test_the_unmarked_list_is_the_clinicians_own_or_the_facilitys(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    now = clock("10:05")
    mine = Chat(demo_db, "c003", now).says("what hasn't been marked today?")
    assert mine.reply.startswith("Not marked yet (your sessions, Mon 30 Nov, 2):")
    assert set(mine.appointments) == {"a00228", "a00283"}
    desk = Chat(demo_db, FRONT_DESK, now).says("what hasn't been marked today?")
    assert desk.reply.startswith("Not marked yet (the facility, Mon 30 Nov, 7):")
    assert "psychotherapy" not in desk.reply, "the front desk sees no session types"
    other = Chat(demo_db, "c003", now).says("anything unmarked for Brian Romero today?")
    assert other.reply.startswith("Sorry, I can't do that: The therapist role sees only its own")
    Chat(demo_db, THERAPIST, now).says("Kevin attended")
    after = Chat(demo_db, FRONT_DESK, now).says("what hasn't been marked today?")
    assert KEVIN_0800 not in after.appointments and len(after.appointments) == 6


# --- late and over: the knock-on ---------------------------------------------------------------


def test_a_late_patient_shows_the_knock_on_and_moves_nothing_until_a_way_is_picked(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    desk = Chat(demo_db, FRONT_DESK, clock("13:55"))
    before = audit_count(demo_db)
    reply = desk.says("Cynthia is running 10 minutes late")
    text = reply.reply
    assert text.startswith("Cynthia Washington: Mon 30 Nov 14:00–14:45 with Brian Romero")
    assert "at full length it runs 14:10–14:55" in text
    assert "- Ernest Richards: Mon 30 Nov 15:00–15:45 with Roger Serrano" in text
    assert "5 min between them, was 15" in text
    assert "1. Shorten it to 14:10–14:45" in text
    assert "2. Run it in full and move 2 later session(s): Ernest Richards to 15:15; " in text
    assert "Michael Duran to 16:15." in text
    assert "psychotherapy" not in text, "the front desk sees no session types"
    assert audit_count(demo_db) == before, "nothing is written before a way is picked"
    done = desk.says("2")
    assert done.reply.startswith("Done. ")
    cynthia, ernest, michael = (row(demo_db, a) for a in (CYNTHIA_1400, ERNEST_1500, MICHAEL_1600))
    assert (cynthia.start.astimezone(NY), cynthia.end.astimezone(NY)) == (at("14:00"), at("14:55"))
    assert ernest.start.astimezone(NY) == at("15:15") and ernest.room_id == "ind-1"
    assert michael.start.astimezone(NY) == at("16:15") and michael.room_id == "ind-1"


def test_shortening_a_late_session_moves_nothing(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    desk = Chat(demo_db, FRONT_DESK, clock("13:55"))
    desk.says("Cynthia is running 10 minutes late")
    before = audit_count(demo_db)
    assert desk.says("1").reply == "OK: the session ends as booked; nothing else moves."
    assert audit_count(demo_db) == before
    assert row(demo_db, ERNEST_1500).start.astimezone(NY) == at("15:00")


def test_a_session_running_over_says_what_it_runs_into_and_who_may_move_it(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    chat = Chat(demo_db, THERAPIST, clock("14:50"))
    text = chat.says("my 2pm is running 20 minutes over").reply
    assert "is running 20 min over; at full length it runs 14:00–15:05" in text
    assert "- Ernest Richards:" in text and "overlaps by 5 min" in text
    assert "1. Run it in full and move 2 later session(s): Ernest Richards to 15:15" in text
    assert "it fits, but you may not make these moves" in text
    assert "pick it to send it to the front desk or a director to apply" in text
    # Picking it stores the push as a proposal (kind knock_on); nothing moves yet.
    sent = chat.says("1")
    [pid] = {n["proposal"] for n in sent.notify if n["kind"] == "approval_needed"}
    assert FRONT_DESK in {n["staff"] for n in sent.notify}, "the front desk is asked"
    assert f"for approval (proposal {pid})" in sent.reply
    assert "Brian Romero's session at Mon 14:00 is running over by 20 min" in sent.reply
    assert "- move Roger Serrano's session at 15:00 to 15:15" in sent.reply
    assert row(demo_db, ERNEST_1500).start.astimezone(NY) == at("15:00")
    with demo_db.read() as session:
        stored = session.get(Proposal, pid)
        assert stored is not None and (stored.kind, stored.status) == ("knock_on", "pending")
    # The therapist may not apply it; the front desk does, in one step, through the one path.
    assert "Sorry, I can't do that" in chat.says(f"apply {pid}").reply
    desk = Chat(demo_db, FRONT_DESK, clock("14:51"))
    done = desk.says(f"apply {pid}")
    assert done.reply.startswith(f"Applied proposal {pid}: 3 appointment(s) changed."), done.reply
    assert row(demo_db, CYNTHIA_1400).end.astimezone(NY) == at("15:05")
    assert row(demo_db, ERNEST_1500).start.astimezone(NY) == at("15:15")
    assert row(demo_db, MICHAEL_1600).start.astimezone(NY) == at("16:15")
    # Claimed once: a second approval changes nothing.
    before = audit_count(demo_db)
    assert "already applied" in Chat(demo_db, DIRECTOR, clock("14:52")).says(f"apply {pid}").reply
    assert audit_count(demo_db) == before


def test_a_knock_on_proposal_whose_sessions_moved_since_changes_nothing(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    """All or nothing: a session the push would move was moved by hand meanwhile, so applying
    fails, nothing changes (not even the delayed session) and the proposal stays pending."""
    chat = Chat(demo_db, THERAPIST, clock("14:50"))
    chat.says("my 2pm is running 20 minutes over")
    [pid] = {n["proposal"] for n in chat.says("1").notify if n["kind"] == "approval_needed"}
    with demo_db.session() as session:
        moved = session.get(Appointment, MICHAEL_1600)
        assert moved is not None
        moved.start, moved.end = at("16:30"), at("17:15")
    before = audit_count(demo_db)
    reply = Chat(demo_db, FRONT_DESK, clock("14:51")).says(f"apply {pid}").reply
    assert "no longer fits the schedule" in reply and "still pending" in reply, reply
    assert audit_count(demo_db) == before
    assert row(demo_db, CYNTHIA_1400).end.astimezone(NY) == at("14:45")
    assert row(demo_db, ERNEST_1500).start.astimezone(NY) == at("15:00")
    with demo_db.read() as session:
        assert session.get(Proposal, pid).status == "pending"  # type: ignore[union-attr]


def test_an_overrun_past_the_clinicians_hours_does_not_fit(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    chat = Chat(demo_db, FRONT_DESK, clock("16:40"))
    text = chat.says("Bruce is running 20 minutes late").reply
    assert "- James Savage, Angela Cole, Sophia Fuentes and 4 more:" in text
    assert "overlaps by 20 min" in text
    assert "does not fit now" in text and "does not work at" in text
    before = audit_count(demo_db)
    assert "nothing was changed" in chat.says("2").reply
    assert audit_count(demo_db) == before
    assert "How many minutes?" in chat.says("Cynthia is running late").reply


# --- roles --------------------------------------------------------------------------------------


def test_the_front_desk_checks_in_without_seeing_clinical_detail(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    desk = Chat(demo_db, FRONT_DESK, clock("15:25"))
    reply = desk.says("Kevin is here")
    assert reply.reply.startswith("Checked in Kevin Fowler: Mon 30 Nov 08:00–08:45")
    assert status(demo_db, KEVIN_0800) == "checked_in"
    group = desk.says("Bruce checked in").reply
    assert group.startswith("Checked in Bruce Barnes: Mon 30 Nov 15:30–17:00 with Brian Romero")
    for clinical in ("psychotherapy", "group counseling", "Early Recovery"):
        assert clinical.lower() not in (reply.reply + group).lower()


def test_a_therapist_marks_only_their_own_sessions(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    chat = Chat(demo_db, OTHER_THERAPIST, clock("08:50"))
    before = audit_count(demo_db)
    refusal = chat.says("Kevin attended").reply
    assert refusal.startswith("Sorry, I can't do that: The therapist role may record attendance")
    assert "only for sessions they hold" in refusal
    assert status(demo_db, KEVIN_0800) == "booked" and audit_count(demo_db) == before
    assert "only for sessions they hold" in chat.says("Kevin checked in").reply
    assert status(demo_db, KEVIN_0800) == "booked"


# --- units and the court report -----------------------------------------------------------------


def _units(db: Database, patient: str) -> dict[str, int]:
    with db.read() as session:
        auth = session.scalars(select(Authorization).where(Authorization.patient_id == patient))
        return authorization_usage(session, auth.one())


def test_attended_uses_the_booked_unit_and_a_no_show_gives_it_back(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    # AUTH-03: a booked session already holds its unit (units left dropped by one when it was
    # booked); attending uses it, a no-show the payer does not charge releases it.
    before = _units(demo_db, "p0060")
    Chat(demo_db, "c006", clock("08:50")).says("Carol attended")
    after = _units(demo_db, "p0060")
    assert after == {
        "used": before["used"] + 1,
        "booked": before["booked"] - 1,
        "remaining": before["remaining"],
    }
    assert after["remaining"] == 24 - after["used"] - after["booked"]


def test_a_no_show_releases_the_unit_the_booking_held(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    before = _units(demo_db, "p0060")
    Chat(demo_db, "c006", clock("08:50")).says("Carol was a no-show")
    assert _units(demo_db, "p0060") == {
        "used": before["used"],
        "booked": before["booked"] - 1,
        "remaining": before["remaining"] + 1,
    }


def test_the_court_report_counts_an_attended_session(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    now = clock("08:50")
    director = callers.for_staff(demo_db, DIRECTOR)

    def attended() -> int:
        report = court_report(demo_db, director, "p0002", now=now)
        return sum(1 for s in report.sessions if s["status"] == "attended")

    counted = attended()
    Chat(demo_db, THERAPIST, now).says("Kevin attended")
    assert attended() == counted + 1
