"""An emergency walk-in over Slack: the intake coordinator's DM admits the new patient and, with
no free slot, sends the bump proposal to the clinical directors, one of whom applies it with one
press; the bumped clinician hears of it, and a second press changes nothing (the small clinic of
tests/http/test_emergency_admission.py, on Slack)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from assistant.dialogue import Dialogue
from clinic.db import Database
from clinic.facility_file import load_facility
from clinic.models import Patient, Proposal
from integrations.http.app import create_app
from integrations.slack.route import door_of
from tests.http.test_emergency_admission import (
    DEPUTY,
    DIRECTOR,
    INTAKE,
    THERAPIST,
    assessments,
    small_clinic,
)
from tests.slack import harness
from tests.slack.conftest import NOW, Slack
from tests.slack.fake_slack import FakeSlack


@pytest.fixture()
def slack(db: Database, slack_env: None, fake_slack: FakeSlack) -> Iterator[Slack]:
    data = small_clinic()
    for n, person in enumerate(data["staff"]):
        person["slack_user_id"] = f"U0EMERG{n:02d}"
    load_facility(db, data)
    app = create_app(db, dialogue=Dialogue(db, clock=lambda: NOW))
    door = door_of(app)
    assert door is not None
    with TestClient(app) as client:
        yield Slack(client, door, fake_slack, db)


def test_a_walk_in_by_dm_is_admitted_and_one_press_applies_the_bumps(slack: Slack) -> None:
    slack.dm(INTAKE, "emergency walk-in, new patient Maria Lopez, needs an assessment now")
    slack.wait()
    [told] = slack.dm_to(INTAKE)
    assert "Admitted Maria Lopez as a new patient" in told.texts()
    assert "for approval" in told.texts()
    [approval] = slack.dm_to(DIRECTOR)
    assert len(slack.dm_to(DEPUTY)) == 1
    shown = harness.buttons(approval)
    assert {b["text"]["text"] for b in shown.values()} == {"Apply", "Reject"}
    found = re.search(r"P-[0-9a-f]+", approval.texts())
    assert found is not None
    pid = found.group(0)

    slack.press(DIRECTOR, approval, "rota_apply")
    slack.wait()
    [outcome] = slack.fake.of("chat.update")
    assert f"Applied proposal {pid}" in outcome.texts()
    with slack.db.read() as session:
        maria = session.scalars(select(Patient.id).where(Patient.name == "Maria Lopez")).one()
        assert session.get(Proposal, pid).status == "applied"
    assert len(assessments(slack.db, maria)) == 1
    changed = [c for c in slack.dm_to(THERAPIST) if "Your schedule changed" in c.texts()]
    assert len(changed) == 1
    # A second press (a double click) does nothing more.
    slack.press(DIRECTOR, approval, "rota_apply")
    slack.wait()
    assert len(slack.fake.of("chat.update")) == 1 and len(assessments(slack.db, maria)) == 1
