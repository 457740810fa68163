"""PRIV-10 on Slack: nothing identifying a patient in a channel, the same channel answer
whoever is named, unknown Slack users refused, every message carrying patient data audited."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from clinic.models import AuditEvent, ConversationState, Patient
from clinic.outbox_models import OutboxMessage
from clinic.slack_models import SlackInbox
from tests.slack import harness
from tests.slack.conftest import Slack

CASE_MANAGER, THERAPIST, FRONT_DESK, AUDITOR = "s006", "c004", "s004", "s005"
CHANNEL = "C0FRONTDESK"
CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{1,2}\s?[ap]m\b", re.I)


def patient_words(slack: Slack) -> set[str]:
    with slack.db.session() as session:
        names = session.scalars(select(Patient.name)).all()
    return {w.lower() for n in names for w in re.split(r"\W+", n) if len(w) >= 3}


def channel_messages(slack: Slack) -> list[str]:
    return [c.texts() for c in slack.fake.messages() if not c.channel.startswith("D")]


def test_channel_requests_never_put_a_patient_or_a_time_in_the_channel(slack: Slack) -> None:
    requests = [
        (CASE_MANAGER, "find an individual slot for Laura Fox tomorrow afternoon"),
        (CASE_MANAGER, "find a slot for Laura this week"),  # two Lauras: a clarifying question
        (FRONT_DESK, "when is Laura Fox's next appointment?"),
        (FRONT_DESK, "what's on Brian Romero's schedule today?"),
        (THERAPIST, "I'm out sick today"),
        (CASE_MANAGER, "which court-ordered patients are behind?"),
    ]
    for staff, text in requests:
        slack.mention(staff, CHANNEL, text)
        slack.wait()
    for staff, text in requests:
        slack.command(staff, CHANNEL, text)
        slack.wait()
    words = patient_words(slack)
    shown = channel_messages(slack)
    assert len(shown) == len(requests)  # one ephemeral note per mention, nothing else
    for text in shown:
        assert not CLOCK.search(text), text
        assert not {w.lower() for w in re.split(r"\W+", text)} & words, text
    assert all(
        c.method == "chat.postEphemeral" for c in slack.fake.messages() if c.channel == CHANNEL
    )
    # The details went to each asker's DM, and some of them do name patients.
    assert any("Laura Fox" in c.texts() for c in slack.dm_to(CASE_MANAGER))


def test_the_channel_answer_is_the_same_whoever_is_named(slack: Slack) -> None:
    slack.mention(FRONT_DESK, CHANNEL, "when is Laura Fox's next appointment?")
    slack.wait()
    slack.mention(FRONT_DESK, CHANNEL, "when is Zebulon Quartermaine's next appointment?")
    slack.wait()
    first, second = channel_messages(slack)
    assert first == second


def test_unknown_slack_users_get_a_polite_refusal_and_nothing_else(slack: Slack) -> None:
    stranger = "UZZSTRANGER1"
    slack.send_event(harness.dm_event(stranger, "find a slot for Laura Fox tomorrow"))
    slack.send_event(harness.mention_event(stranger, CHANNEL, "is Laura Fox a patient here?"))
    body = harness.command_body(stranger, CHANNEL, "when is Laura Fox's next appointment?")
    ack = slack.post(body, "application/x-www-form-urlencoded")
    slack.wait()
    assert "isn't linked" in ack.text and "Laura" not in ack.text
    ephemeral, dm = sorted(slack.fake.messages(), key=lambda c: c.method)  # answered in parallel
    assert dm.method == "chat.postMessage" and dm.channel == harness.dm_channel(stranger)
    assert ephemeral.method == "chat.postEphemeral" and ephemeral.channel == CHANNEL
    for call in (dm, ephemeral):
        assert "isn't linked" in call.texts() and "Laura" not in call.texts()
        assert not call.args.get("blocks")
    with slack.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ConversationState)) == 0
        refused = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "slack.refused")
        ).all()
        assert len(refused) == 3 and {e.entity_id for e in refused} == {stranger}
        assert all(r.payload == {} for r in session.scalars(select(SlackInbox)))


def test_roles_are_enforced_as_on_the_http_door(slack: Slack) -> None:
    slack.dm(FRONT_DESK, "how was therapist utilization last week?")
    slack.wait()
    assert "can't do that" in slack.dm_to(FRONT_DESK)[-1].texts()
    slack.dm(THERAPIST, "find a slot for Laura Fox tomorrow")  # not on this therapist's caseload
    slack.wait()
    assert "own caseload" in slack.dm_to(THERAPIST)[-1].texts()


def test_every_message_with_patient_details_is_audited_without_its_text(slack: Slack) -> None:
    slack.mention(CASE_MANAGER, CHANNEL, "find an individual slot for Laura Fox tomorrow afternoon")
    slack.dm(CASE_MANAGER, "help")
    slack.wait()
    with slack.db.session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "slack.message")
        ).all()
    # The offer in the DM names a patient; the ephemeral note and the help text do not.
    assert len(events) == 1
    [event] = events
    assert event.after["recipient"] == CASE_MANAGER
    assert event.after["channel_type"] == "im"
    assert event.after["patients"] == ["p0008"]
    assert event.after["slack_user"] == slack.user[CASE_MANAGER]
    assert "Laura" not in str(event.after) and "text" not in event.after
    assert event.entity_id.startswith(harness.dm_channel(slack.user[CASE_MANAGER]))


def test_previews_do_not_carry_patient_details(slack: Slack) -> None:
    slack.dm(CASE_MANAGER, "find an individual slot for Laura Fox tomorrow afternoon")
    slack.wait()
    [offer] = slack.dm_to(CASE_MANAGER)
    assert "Laura" not in offer.args["text"] and "Laura Fox" in offer.texts()


def test_the_door_withholds_patient_details_addressed_to_a_channel(slack: Slack) -> None:
    from assistant.outbox import SlackMessage
    from assistant.slack_store import claim, finish

    claim(slack.db, "test:leak", "message", slack.user[CASE_MANAGER], CHANNEL, {})
    finish(
        slack.db,
        "test:leak",
        [
            SlackMessage(
                "chat.postMessage", slack.user[CASE_MANAGER], CHANNEL, {"text": "Laura Fox at 2pm"}
            )
        ],
    )
    slack.client.blocking_portal.call(slack.door.resend)
    assert not channel_messages(slack)
    # The consent pack's rule refused it, and the refusal is in the audit log.
    with slack.db.session() as session:
        refused = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "disclosure.refused")
        ).all()
    assert [e.decision["fired"][0]["id"] for e in refused] == ["PRIV-PUBLIC-CHANNEL"]
    assert refused[0].after["channel"] == "public_channel" and "text" not in refused[0].after


def test_the_door_withholds_patient_details_from_a_role_without_the_need(slack: Slack) -> None:
    """A DM naming a patient to the auditor (who may see no schedules) never leaves: the PRIV
    rules judge DMs too, not only channels."""
    from assistant.outbox import SlackMessage
    from assistant.slack_store import claim, finish

    dm = harness.dm_channel(slack.user[AUDITOR])
    claim(slack.db, "test:dm-leak", "message", slack.user[AUDITOR], dm, {})
    finish(
        slack.db,
        "test:dm-leak",
        [
            SlackMessage(
                "chat.postMessage", slack.user[AUDITOR], dm, {"text": "Laura Fox is booked"}
            )
        ],
    )
    slack.client.blocking_portal.call(slack.door.resend)
    assert not slack.dm_to(AUDITOR)
    with slack.db.session() as session:
        refused = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "disclosure.refused")
        ).one()
    assert "PRIV-ROLE-NEED" in {f["id"] for f in refused.decision["fired"]}
    assert refused.after["patients"] == ["p0008"]
    # In the outbox: refused with its reason, the words dropped, never to be retried.
    with slack.db.session() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key == "test:dm-leak:0")
        ).one()
        assert (row.status, row.context) == ("refused", {})
        assert row.last_error.startswith("withheld:")


def test_a_role_without_the_right_learns_nothing_about_who_is_a_patient(slack: Slack) -> None:
    for text in (
        "find a slot for Laura Fox tomorrow",
        "find a slot for Zebulon Quartermaine tomorrow",
        "find a slot for Laura tomorrow",  # would list every Laura
    ):
        slack.dm(AUDITOR, text)
        slack.wait()
    answers = [c.texts() for c in slack.dm_to(AUDITOR)]
    assert len(answers) == 3 and len(set(answers)) == 1
    assert "can't do that" in answers[0] and "Laura" not in answers[0]
