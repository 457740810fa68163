"""Conversations over Slack: a case manager books from a channel mention, a therapist calls in
sick by DM and the director approves, a slash command, and follow-ups in one conversation."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from clinic.db import Database
from clinic.models import Appointment, AuditEvent, Proposal, StaffUnavailability
from tests.slack import harness
from tests.slack.conftest import Slack
from tests.slack.fake_slack import Call

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
    assert not re.search(r"appt-[0-9a-f]+", update.texts())  # names and times, not ids
    with slack.db.session() as session:
        booked = session.scalars(
            select(AuditEvent.entity_id).where(AuditEvent.action == "appointment.book")
        ).one()
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "slack.message")
        ).all()
    assert [e.after["recipient"] for e in audited] == [CASE_MANAGER, CASE_MANAGER]
    assert audited[0].after["patients"] == ["p0008"] and audited[0].after["channel_type"] == "im"
    assert audited[1].after["appointments"] == [booked]
    assert all("text" not in e.after for e in audited)


def test_sick_call_by_dm_goes_to_the_director_and_each_clinician_hears_their_changes(
    slack: Slack,
) -> None:
    slack.dm(THERAPIST, "I'm sick today")
    slack.wait()
    [told] = slack.dm_to(THERAPIST)
    assert re.search(r"\b\d+ appointment\(s\) affected", told.texts())
    assert "for approval" in told.texts()
    [approval] = slack.dm_to(DIRECTOR)
    shown = harness.buttons(approval)
    assert {b["text"]["text"] for b in shown.values()} == {"Apply", "Adjust"}
    proposal = re.search(r"P-[0-9a-f]+", approval.texts())
    assert proposal is not None
    with slack.db.session() as session:
        assert session.get(Proposal, proposal.group(0)).status == "pending"
    slack.press(DIRECTOR, approval, "rota_apply")
    slack.wait()
    [outcome] = slack.fake.of("chat.update")
    assert outcome.channel == approval.channel and outcome.args["ts"] == approval.answer["ts"]
    assert f"Applied proposal {proposal.group(0)}" in outcome.texts()
    assert not harness.buttons(outcome) or "rota_apply" not in harness.buttons(outcome)
    with slack.db.session() as session:
        notify = session.get(Proposal, proposal.group(0)).outcome["notify"]
    clinicians = {n["staff"] for n in notify if n.get("staff")}
    assert THERAPIST in clinicians and len(clinicians) >= 2
    for staff in clinicians:
        changes = [c for c in slack.dm_to(staff) if "Your schedule changed" in c.texts()]
        assert len(changes) == 1, staff
        mine = next(n for n in notify if n.get("staff") == staff)
        assert len(re.findall(r"^- ", _text(changes[0]), re.M)) == mine["count"]
    therapist_note = next(c for c in slack.dm_to(THERAPIST) if "Your schedule changed" in c.texts())
    assert "no longer yours" in therapist_note.texts()
    # A second press on the same approval message (a double click) does nothing more.
    slack.press(DIRECTOR, approval, "rota_apply")
    slack.wait()
    assert len(slack.fake.of("chat.update")) == 1


def test_adjust_offers_other_covers_and_can_withdraw_the_absence(slack: Slack) -> None:
    slack.dm(THERAPIST, "I'm out sick today")
    slack.wait()
    [approval] = slack.dm_to(DIRECTOR)
    slack.press(DIRECTOR, approval, "rota_adjust")
    slack.wait()
    [menu] = slack.fake.of("chat.update")
    assert "Adjust proposal" in menu.texts() and "could also be" in menu.texts()
    labels = {b["text"]["text"]: key for key, b in harness.buttons(menu).items()}
    assert {"Withdraw absence", "Set aside"} <= set(labels)
    with slack.db.session() as session:
        assert session.scalars(select(Proposal.status)).all() == ["pending"]
    menu.answer = {"ts": approval.answer["ts"]}
    slack.press(DIRECTOR, menu, labels["Withdraw absence"])
    slack.wait()
    assert "Withdrawn" in slack.fake.of("chat.update")[-1].texts()
    with slack.db.session() as session:
        assert session.scalars(select(Proposal.status)).all() == ["withdrawn"]
        absences = session.scalars(
            select(StaffUnavailability).where(StaffUnavailability.staff_id == THERAPIST)
        ).all()
        assert absences == []


def test_slash_command_answers_in_a_dm_and_its_buttons_keep_their_conversation(
    slack: Slack,
) -> None:
    response = slack.command(CASE_MANAGER, CHANNEL, "find a slot for Laura Fox this week")
    assert "DM" in response.text  # the acknowledgement, shown only to the asker
    slack.wait()
    assert not [c for c in slack.fake.messages() if c.channel == CHANNEL]
    [offer] = slack.dm_to(CASE_MANAGER)
    before = active_for(slack.db, "p0008")
    slack.dm(CASE_MANAGER, "help")  # another conversation (the DM) in between
    slack.wait()
    slack.press(CASE_MANAGER, offer, "rota_book_1")
    slack.wait()
    assert len(active_for(slack.db, "p0008")) == len(before) + 1
    assert "Booked:" in slack.fake.of("chat.update")[-1].texts()


def test_typed_follow_up_books_and_an_out_of_date_button_does_not(slack: Slack) -> None:
    slack.dm(CASE_MANAGER, "find a slot for Laura Fox this week")
    slack.wait()
    [offer] = slack.dm_to(CASE_MANAGER)
    before = active_for(slack.db, "p0008")
    slack.dm(CASE_MANAGER, "find an individual slot for Laura Fox tomorrow afternoon")
    slack.wait()
    slack.dm(CASE_MANAGER, "book option 1")
    slack.wait()
    assert len(active_for(slack.db, "p0008")) == len(before) + 1
    assert "Booked:" in slack.dm_to(CASE_MANAGER)[-1].texts()
    # The first offer's buttons show options the conversation no longer holds.
    slack.dm(CASE_MANAGER, "find an individual slot for Laura Fox on Thursday")
    slack.wait()
    slack.press(CASE_MANAGER, offer, "rota_book_1")
    slack.wait()
    assert len(active_for(slack.db, "p0008")) == len(before) + 1
    assert "out of date" in slack.fake.of("chat.update")[-1].texts()


def test_more_options_and_cancel_update_the_message(slack: Slack) -> None:
    slack.dm(CASE_MANAGER, "find a slot for Laura Fox this week")
    slack.wait()
    [offer] = slack.dm_to(CASE_MANAGER)
    slack.press(CASE_MANAGER, offer, "rota_more")
    slack.wait()
    [more] = slack.fake.of("chat.update")
    assert more.args["ts"] == offer.answer["ts"]
    first = {b["value"] for k, b in harness.buttons(offer).items() if k.startswith("rota_book")}
    second = {b["value"] for k, b in harness.buttons(more).items() if k.startswith("rota_book")}
    assert second and not first & second
    before = active_for(slack.db, "p0008")
    more.answer = {"ts": offer.answer["ts"]}
    slack.press(CASE_MANAGER, more, "rota_cancel")
    slack.wait()
    assert "Nothing was booked" in slack.fake.of("chat.update")[-1].texts()
    assert active_for(slack.db, "p0008") == before


def _text(call: Call) -> str:
    return "\n".join(
        b.get("text", {}).get("text", "") for b in call.args.get("blocks") or [] if "text" in b
    )
