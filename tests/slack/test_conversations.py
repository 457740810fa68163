"""Conversations over Slack: a case manager books from a channel mention, a therapist calls in
sick by DM and the director approves, a slash command, and follow-ups in one conversation."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from clinic.db import Database
from clinic.models import Appointment, AuditEvent
from tests.slack import harness
from tests.slack.conftest import Slack

DIRECTOR, CASE_MANAGER, THERAPIST, FRONT_DESK = "s001", "s006", "c004", "s004"
CHANNEL = "C0FRONTDESK"
TIME = re.compile(r"\b\d{1,2}:\d{2}\b")


def active_for(db: Database, patient: str) -> list[tuple[datetime, list[str]]]:
    with db.session() as session:
        rows = session.scalars(
            select(Appointment)
            .where(Appointment.active)
            .where(Appointment.patient_links.any(patient_id=patient))
        )
        return sorted((a.start, a.staff_ids) for a in rows)


def test_mention_offers_options_in_a_dm_and_a_button_books(slack: Slack) -> None:
    before = active_for(slack.db, "p0008")
    slack.mention(CASE_MANAGER, CHANNEL, "find an individual slot for Laura Fox tomorrow afternoon")
    slack.wait()
    in_channel = [c for c in slack.fake.messages() if c.channel == CHANNEL]
    assert [c.method for c in in_channel] == ["chat.postEphemeral"]
    assert in_channel[0].args["user"] == slack.user[CASE_MANAGER]
    assert "DM" in in_channel[0].args["text"]
    [offer] = slack.dm_to(CASE_MANAGER)
    shown = harness.buttons(offer)
    assert {"rota_book_1", "rota_book_2", "rota_book_3", "rota_more", "rota_cancel"} <= set(shown)
    assert all(shown[f"rota_book_{i}"]["text"]["text"] == "Book" for i in (1, 2, 3))
    assert "Laura Fox" in offer.texts() and "Laura Fox" not in offer.args["text"]

    slack.press(CASE_MANAGER, offer, "rota_book_2")
    slack.wait()
    after = active_for(slack.db, "p0008")
    assert len(after) == len(before) + 1
    [update] = slack.fake.of("chat.update")
    assert update.channel == offer.channel and update.args["ts"] == offer.answer["ts"]
    assert "Booked:" in update.texts() and "rota_book_1" not in harness.buttons(update)
    booked = re.search(r"appt-[0-9a-f]+", update.texts())
    assert booked is not None
    with slack.db.session() as session:
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "slack.message")
        ).all()
    assert [e.after["recipient"] for e in audited] == [CASE_MANAGER, CASE_MANAGER]
    assert audited[0].after["patients"] == ["p0008"] and audited[0].after["channel_type"] == "im"
    assert audited[1].after["appointments"] == [booked.group(0)]
    assert all("text" not in e.after for e in audited)

