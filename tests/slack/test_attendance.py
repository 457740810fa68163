"""Attendance over Slack (demo 's', Mon 30 Nov 2026; Kevin Fowler's 08:00 session with Brian
Romero has started by the time any test runs): the front desk checks him in by DM, another
therapist is refused, his own therapist previews the day and records it with the "Yes" button."""

from __future__ import annotations

from clinic.db import Database
from clinic.models import Appointment
from tests.slack import harness
from tests.slack.conftest import Slack

THERAPIST, OTHER_THERAPIST, FRONT_DESK = "c004", "c003", "s004"
KEVIN_0800 = "a00216"


def status(db: Database, appointment_id: str) -> str:
    with db.read() as session:
        row = session.get(Appointment, appointment_id)
        assert row is not None
        return row.status


def test_the_front_desk_checks_in_by_dm_without_clinical_detail(slack: Slack) -> None:
    slack.dm(FRONT_DESK, "Kevin Fowler checked in")
    slack.wait()
    [answer] = slack.dm_to(FRONT_DESK)
    text = answer.texts()
    assert "Checked in Kevin Fowler: Mon 30 Nov 08:00–08:45 with Brian Romero" in text
    assert "psychotherapy" not in text and "individual psychotherapy" not in text.lower()
    assert status(slack.db, KEVIN_0800) == "checked_in"


def test_a_therapist_is_refused_another_clinicians_session(slack: Slack) -> None:
    slack.dm(OTHER_THERAPIST, "Kevin attended")
    slack.wait()
    [answer] = slack.dm_to(OTHER_THERAPIST)
    assert "only for sessions they hold" in answer.texts()
    assert status(slack.db, KEVIN_0800) == "booked"


def test_a_therapist_records_the_day_with_the_yes_button(slack: Slack) -> None:
    slack.dm(THERAPIST, "what hasn't been marked today?")
    slack.wait()
    [unmarked] = slack.dm_to(THERAPIST)
    assert "Not marked yet (your sessions, Mon 30 Nov, 1):" in unmarked.texts()
    assert "Kevin Fowler" in unmarked.texts()
    slack.dm(THERAPIST, "all my sessions today were attended")
    slack.wait()
    question = slack.dm_to(THERAPIST)[-1]
    assert "Record these 1 session(s) at once?" in question.texts()
    yes = next(k for k, b in harness.buttons(question).items() if b["text"]["text"] == "Yes")
    assert status(slack.db, KEVIN_0800) == "booked"
    slack.press(THERAPIST, question, yes)
    slack.wait()
    assert "Recorded 1 session(s)." in slack.dm_to(THERAPIST)[-1].texts()
    assert status(slack.db, KEVIN_0800) == "attended"


def test_a_push_the_therapist_may_not_make_goes_to_the_front_desk_to_apply(slack: Slack) -> None:
    """A session running over: the therapist picks the push, which is not theirs to make; the
    front desk gets it as a proposal (Apply or Reject, nothing to adjust) and one press moves
    the rest of the day."""
    slack.dm(THERAPIST, "my 2pm is running 20 minutes over")
    slack.wait()
    slack.dm(THERAPIST, "1")
    slack.wait()
    assert "for approval (proposal P-" in slack.dm_to(THERAPIST)[-1].texts()
    [approval] = slack.dm_to(FRONT_DESK)
    assert {b["text"]["text"] for b in harness.buttons(approval).values()} == {"Apply", "Reject"}
    assert status(slack.db, "a00220") == "booked"
    slack.press(FRONT_DESK, approval, "rota_apply")
    slack.wait()
    [outcome] = slack.fake.of("chat.update")
    assert (
        "Applied proposal P-" in outcome.texts() and "3 appointment(s) changed" in outcome.texts()
    )
    with slack.db.read() as session:
        ernest = session.get(Appointment, "a00220")
        assert ernest is not None and (ernest.start.hour, ernest.start.minute) == (20, 15)
