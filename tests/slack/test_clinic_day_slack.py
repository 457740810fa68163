"""A new patient's day over Slack DMs (demo 's', Mon 30 Nov 2026): the intake coordinator admits
Maria Lopez and books her assessment, the front desk checks her in, her assessor marks it
attended (a unit used), and her therapist discharges her, cancelling the session left and being
told who must know. Patient details travel only in DMs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from assistant import callers
from assistant.dialogue import Dialogue
from assistant.usecases import patients
from clinic.db import Database
from clinic.models import Patient
from integrations.http.app import create_app
from integrations.slack.route import door_of
from tests.http.test_clinic_day_e2e import Clock
from tests.slack.conftest import Slack
from tests.slack.fake_slack import FakeSlack

INTAKE, FRONT_DESK, THERAPIST, DIRECTOR = "s002", "s004", "c007", "s001"


@pytest.fixture()
def clock(set_now: Callable[[datetime], None]) -> Clock:
    return Clock(set_now)


@pytest.fixture()
def slack(
    demo_db: Database, slack_env: None, fake_slack: FakeSlack, clock: Clock
) -> Iterator[Slack]:
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: clock.now))
    door = door_of(app)
    assert door is not None
    with TestClient(app) as client:
        yield Slack(client, door, fake_slack, demo_db)


def said(slack: Slack, staff: str, text: str) -> str:
    """What reached `staff`'s DM after they said `text` (the answer, and any notice)."""
    before = len(slack.dm_to(staff))
    slack.dm(staff, text)
    slack.wait()
    answers = slack.dm_to(staff)
    assert len(answers) > before, f"no answer to {text!r}"
    return "\n".join(a.texts() for a in answers[before:])


def units_left(db: Database, pid: str) -> dict[str, int]:
    shown = patients.show(db, callers.for_staff(db, DIRECTOR), patients.Show(pid))
    [auth] = shown["authorizations"]
    return {key: auth[key] for key in ("used", "booked", "left")}


def test_admit_book_check_in_attend_and_discharge_over_slack(
    slack: Slack, demo_db: Database, clock: Clock
) -> None:
    question = said(
        slack,
        INTAKE,
        "admit Maria Lopez to OP with Esperanza Nevárez, Medicaid, 24 units through Jan 31",
    )
    assert "Admit Maria Lopez" in question and "Medicaid: 24 units" in question
    assert "Admitted Maria Lopez" in said(slack, INTAKE, "yes")
    with demo_db.read() as session:
        pid = session.scalars(select(Patient.id).where(Patient.name == "Maria Lopez")).one()
    assert units_left(demo_db, pid) == {"used": 0, "booked": 0, "left": 24}

    offered = said(slack, INTAKE, "find an intake assessment for Maria Lopez today")
    assert "1." in offered, offered
    assert "Booked:" in said(slack, INTAKE, "book option 1")
    assert units_left(demo_db, pid) == {"used": 0, "booked": 1, "left": 23}

    clock.to(16, 30)  # after the assessment, whenever today it was
    assert "Checked in Maria Lopez" in said(slack, FRONT_DESK, "Maria Lopez checked in")
    marked = said(slack, DIRECTOR, "Maria Lopez attended")
    assert "Maria Lopez" in marked and "attended" in marked.lower(), marked
    assert units_left(demo_db, pid) == {"used": 1, "booked": 0, "left": 23}

    week = said(slack, THERAPIST, "find an individual session for Maria Lopez next week")
    assert "1." in week, week
    assert "Booked:" in said(slack, THERAPIST, "book option 1")
    asked = said(slack, THERAPIST, "discharge Maria Lopez")
    assert "Why" in asked, asked
    confirm = said(slack, THERAPIST, "she moved out of state")
    assert "1 future session(s) will be cancelled" in confirm, confirm
    done = said(slack, THERAPIST, "yes")
    assert "Discharged Maria Lopez" in done, done
    assert units_left(demo_db, pid) == {"used": 1, "booked": 0, "left": 24 - 1}
    # Every answer went to a DM: nothing about her reached a channel.
    assert all(c.channel.startswith("D") for c in slack.fake.messages())
