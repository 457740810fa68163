"""Signatures, acknowledgement before work, Slack's retries, double clicks, Web API errors,
rate limits and restarts."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from assistant import outbox
from assistant import slack_store as store
from assistant.dialogue import Dialogue
from clinic.models import Appointment, AuditEvent, ConversationState, Staff
from clinic.outbox_models import OutboxMessage
from clinic.slack_models import SlackInbox
from integrations.cli.main import run as rota
from integrations.http.app import create_app
from integrations.slack.route import door_of
from tests.slack import harness
from tests.slack.conftest import NOW, Slack

CASE_MANAGER, DIRECTOR = "s006", "s001"


def bookings(slack: Slack) -> int:
    with slack.db.session() as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "appointment.book")
        )


def slack_rows(slack: Slack) -> list[OutboxMessage]:
    """The Slack messages in the one outbox, oldest first."""
    with slack.db.read() as session:
        rows = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == "slack")
                .order_by(OutboxMessage.id)
            )
        )
        session.expunge_all()  # read after the session closes
        return rows


def offer(slack: Slack) -> Any:
    slack.dm(CASE_MANAGER, "find an individual slot for Laura Fox tomorrow afternoon")
    slack.wait()
    return slack.dm_to(CASE_MANAGER)[-1]


def test_bad_and_stale_signatures_are_refused_and_never_logged(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("slack_bolt").setLevel(logging.DEBUG)  # even a chatty configuration
    body = harness.event_body(harness.dm_event(slack.user[CASE_MANAGER], "Laura Fox DOB 3/14/1962"))
    forged = slack.post(body, "application/json", secret="not-the-secret")
    stale = slack.post(body, "application/json", timestamp=int(time.time()) - 600)
    assert forged.status_code == 401 and stale.status_code == 401
    slack.wait()
    assert "Laura" not in caplog.text and "1962" not in caplog.text
    with slack.db.session() as session:
        assert session.scalar(select(func.count()).select_from(SlackInbox)) == 0
    assert not slack.fake.messages()


def test_the_ack_comes_before_the_dialogue_runs(slack: Slack) -> None:
    release = threading.Event()
    started = threading.Event()
    answerer = slack.door.answerer
    original = answerer.answer

    def slow(job: Any) -> Any:
        started.set()
        assert release.wait(30)
        return original(job)

    answerer.answer = slow  # type: ignore[method-assign]
    begun = time.monotonic()
    slack.dm(CASE_MANAGER, "find an individual slot for Laura Fox tomorrow afternoon")
    assert time.monotonic() - begun < 3
    assert started.wait(10) and not slack.fake.of("chat.postMessage")
    release.set()
    slack.wait()
    assert slack.dm_to(CASE_MANAGER)


def test_a_retried_event_books_once(slack: Slack) -> None:
    offer(slack)
    before = bookings(slack)
    event = harness.dm_event(slack.user[CASE_MANAGER], "book option 1")
    slack.send_event(event, event_id="EvBOOK1")
    slack.send_event(event, event_id="EvBOOK1", retry=1)  # Slack thought we were too slow
    slack.wait()
    slack.send_event(event, event_id="EvBOOK1", retry=2)
    slack.wait()
    assert bookings(slack) == before + 1
    assert sum("Booked:" in c.texts() for c in slack.dm_to(CASE_MANAGER)) == 1


def test_a_retry_whose_original_was_lost_is_still_answered(slack: Slack) -> None:
    slack.send_event(harness.dm_event(slack.user[CASE_MANAGER], "help"), retry=1)
    slack.wait()
    assert "I can" in slack.dm_to(CASE_MANAGER)[-1].texts()


def test_a_double_click_books_once(slack: Slack) -> None:
    shown = offer(slack)
    before = bookings(slack)
    threads = [
        threading.Thread(target=slack.press, args=(CASE_MANAGER, shown, action))
        for action in ("rota_book_1", "rota_book_1", "rota_book_2")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slack.wait()
    assert bookings(slack) == before + 1
    assert len(slack.fake.of("chat.update")) == 1


def test_rate_limits_are_honoured(slack: Slack) -> None:
    slack.fake.fail("chat.postMessage", status=429, error="ratelimited", retry_after=1)
    slack.dm(CASE_MANAGER, "help")
    slack.wait()
    first, second = slack.fake.attempts("chat.postMessage")
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 1.0


def test_server_errors_and_timeouts_are_retried(slack: Slack) -> None:
    slack.door.api.client.timeout = 0.5  # type: ignore[assignment]
    slack.fake.fail("chat.postMessage", status=503, error="service_unavailable")
    slack.fake.fail("chat.postMessage", status=504, error="", delay=1.0)  # too slow: a timeout
    slack.dm(CASE_MANAGER, "help")
    slack.wait()
    assert [c.status for c in slack.fake.attempts("chat.postMessage")][-1] == 200
    assert len(slack.fake.attempts("chat.postMessage")) == 3
    assert len(slack.dm_to(CASE_MANAGER)) == 1


def test_a_slack_outage_never_loses_a_confirmed_booking(
    slack: Slack, set_now: Callable[[datetime], None]
) -> None:
    shown = offer(slack)
    before = bookings(slack)
    slack.fake.fail("chat.update", times=10, status=500, error="internal_error")
    slack.press(CASE_MANAGER, shown, "rota_book_1")
    slack.wait()
    assert bookings(slack) == before + 1  # booked although Slack could not be told
    assert len(slack.fake.attempts("chat.update")) == 4  # the Web API retries of one try
    [owed] = [r for r in slack_rows(slack) if r.status == "pending"]
    assert owed.attempts == 1 and "internal_error" in (owed.last_error or "")
    slack.fake.recover()
    slack.client.blocking_portal.call(slack.door.resend)  # backing off: not due yet
    assert not slack.fake.of("chat.update")
    set_now(owed.next_attempt_at)  # 30 s later, the periodic sweep
    slack.client.blocking_portal.call(slack.door.resend)
    assert "Booked:" in slack.fake.of("chat.update")[-1].texts()
    assert all(r.status == "sent" for r in slack_rows(slack))
    assert bookings(slack) == before + 1


def test_permanent_errors_are_not_retried(slack: Slack) -> None:
    slack.fake.fail("chat.postMessage", status=200, error="channel_not_found")
    slack.dm(CASE_MANAGER, "help")
    slack.wait()
    assert len(slack.fake.attempts("chat.postMessage")) == 1
    [row] = slack_rows(slack)
    assert row.status == "dead" and "channel_not_found" in (row.last_error or "")
    assert row.context  # its words are kept: a person may retry it


def test_a_dead_answer_is_listed_and_a_retry_has_the_sweep_send_it(
    slack: Slack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", slack.db.url)
    slack.door.sweep_seconds = 0.2  # the sweep, quicker (it starts with the first request)
    slack.fake.fail("chat.postMessage", status=200, error="channel_not_found")
    slack.dm(CASE_MANAGER, "help")
    slack.wait()
    assert not slack.dm_to(CASE_MANAGER)

    assert rota(["outbox", "list", "--dead", "--json"]) == 0
    [dead] = json.loads(capsys.readouterr().out)
    assert (dead["channel"], dead["template"], dead["attempts"]) == ("slack", "slack_answer", 1)
    assert dead["recipient"] == "***" + slack.user[CASE_MANAGER][-4:]  # masked
    assert "channel_not_found" in dead["last_error"]
    assert rota(["outbox", "list", "--dead"]) == 0
    assert f"#{dead['id']} dead     slack" in capsys.readouterr().out
    time.sleep(0.5)  # sweeps come and go: a dead message stays dead
    assert not slack.dm_to(CASE_MANAGER)

    assert rota(["outbox", "retry", str(dead["id"])]) == 0
    assert "queued again (slack to ***" in capsys.readouterr().out
    deadline = time.monotonic() + 10
    while not slack.dm_to(CASE_MANAGER) and time.monotonic() < deadline:
        time.sleep(0.05)
    [answer] = slack.dm_to(CASE_MANAGER)
    assert "I can" in answer.texts()
    time.sleep(0.5)  # once: the next sweeps find nothing owed
    assert len(slack.dm_to(CASE_MANAGER)) == 1
    [row] = slack_rows(slack)
    assert (row.status, row.context) == ("sent", {})
    with slack.db.read() as session:
        actions = [
            e.action
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity_type == "outbox_message")
                .order_by(AuditEvent.seq)
            )
        ]
    assert actions == ["outbox.dead", "outbox.retry", "outbox.sent"]


def test_the_answers_to_one_request_arrive_in_order(
    slack: Slack, set_now: Callable[[datetime], None]
) -> None:
    """The first of three answers fails for this try: the other two wait for it."""
    user = slack.user[CASE_MANAGER]
    dm = harness.dm_channel(user)
    assert store.claim(slack.db, "test:order", "message", user, dm, {})
    words = ("one", "two", "three")
    store.finish(
        slack.db,
        "test:order",
        [outbox.SlackMessage("chat.postMessage", user, dm, {"text": w}) for w in words],
    )
    slack.fake.fail("chat.postMessage", times=4, status=503, error="service_unavailable")
    slack.client.blocking_portal.call(slack.door.resend)
    assert not slack.dm_to(CASE_MANAGER)
    rows = slack_rows(slack)
    assert [r.key for r in rows] == ["test:order:0", "test:order:1", "test:order:2"]
    assert [(r.status, r.attempts) for r in rows] == [
        ("pending", 1),
        ("pending", 0),
        ("pending", 0),
    ]
    set_now(rows[1].next_attempt_at + timedelta(seconds=1))  # the later two are due, not the first
    slack.client.blocking_portal.call(slack.door.resend)
    assert not slack.dm_to(CASE_MANAGER)  # they never overtake it
    set_now(rows[0].next_attempt_at)
    slack.client.blocking_portal.call(slack.door.resend)
    assert [c.args["text"] for c in slack.dm_to(CASE_MANAGER)] == list(words)
    assert [(r.status, r.attempts) for r in slack_rows(slack)] == [
        ("sent", 2),
        ("sent", 1),
        ("sent", 1),
    ]


def test_requests_claimed_before_a_restart_are_answered_after_it(
    demo_db: Any, slack_env: None, fake_slack: Any
) -> None:
    # The previous process claimed (and acknowledged) this message, then stopped.
    with demo_db.session() as session:
        cm = session.get(Staff, CASE_MANAGER).slack_user_id
    assert store.claim(
        demo_db, "event:EvLOST", "message", cm, harness.dm_channel(cm), {"text": "help"}
    )
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    with TestClient(app) as client:
        slack = Slack(client, door_of(app), fake_slack, demo_db)  # type: ignore[arg-type]
        slack.dm(DIRECTOR, "help")  # any request starts the door, which resumes the old one
        time.sleep(0.1)
        slack.wait()
        assert slack.dm_to(CASE_MANAGER) and slack.dm_to(DIRECTOR)
    with demo_db.session() as session:
        assert session.get(SlackInbox, "event:EvLOST").status == "done"
        assert session.get(SlackInbox, "event:EvLOST").payload == {}  # the words are not kept


def test_outbox_keeps_no_text_once_sent(slack: Slack) -> None:
    offer(slack)
    rows = slack_rows(slack)
    assert rows and all(r.status == "sent" and r.context == {} for r in rows)
    assert all("text" not in str(r.extra) for r in rows)
    with slack.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ConversationState)) == 1
        assert session.scalar(select(func.count()).select_from(Appointment)) > 0


def test_a_withheld_answer_does_not_hold_back_the_rest_of_its_request(slack: Slack) -> None:
    user = slack.user[CASE_MANAGER]
    dm = harness.dm_channel(user)
    assert store.claim(slack.db, "test:leak", "mention", user, "C0FRONTDESK", {})
    store.finish(
        slack.db,
        "test:leak",
        [
            outbox.SlackMessage("chat.postMessage", user, "C0FRONTDESK", {"text": "Laura Fox"}),
            outbox.SlackMessage("chat.postMessage", user, dm, {"text": "see your DM"}),
        ],
    )
    slack.client.blocking_portal.call(slack.door.resend)  # one pass sends what may go
    assert [c.args["text"] for c in slack.fake.messages()] == ["see your DM"]
    assert [(r.status, r.context) for r in slack_rows(slack)] == [
        ("refused", {}),
        ("sent", {}),
    ]
