"""A room closed over Slack: front desk says so by DM and confirms with the button; the director
is asked to approve and applies with one press."""

from __future__ import annotations

import re

from sqlalchemy import select

from clinic.models import Appointment, Proposal, RoomUnavailability
from tests.slack import harness
from tests.slack.conftest import Slack

DIRECTOR, FRONT_DESK = "s001", "s004"


def test_a_room_closed_by_dm_is_confirmed_then_applied_by_the_director(slack: Slack) -> None:
    slack.dm(FRONT_DESK, "Individual room 1 is closed tomorrow")
    slack.wait()
    [asked] = slack.dm_to(FRONT_DESK)
    assert "Close Individual room 1 on Tue 01 Dec?" in asked.texts()
    shown = harness.buttons(asked)
    yes = next(a for a, b in shown.items() if b["text"]["text"] == "Yes, close it")
    with slack.db.read() as session:
        assert session.scalars(select(RoomUnavailability)).all() == []
    slack.press(FRONT_DESK, asked, yes)
    slack.wait()
    assert "for approval" in slack.dm_to(FRONT_DESK)[-1].texts()
    [approval] = slack.dm_to(DIRECTOR)
    assert "Individual room 1 is closed on Tue 01 Dec" in approval.texts()
    proposal = re.search(r"P-[0-9a-f]+", approval.texts())
    assert proposal is not None
    slack.press(DIRECTOR, approval, "rota_apply")
    slack.wait()
    assert f"Applied proposal {proposal.group()}" in slack.dm_to(DIRECTOR)[-1].texts()
    with slack.db.read() as session:
        stored = session.get(Proposal, proposal.group())
        assert stored is not None and stored.status == "applied"
        for move in stored.payload["moves"]:
            row = session.get(Appointment, move["appointment"])
            assert row is not None and row.room_id == move["after"]["room"]
