"""`rota slack …` and Socket Mode (the same door, fed by Bolt's Socket Mode adapter)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest

from assistant.callers import for_slack_user as caller_for
from assistant.dialogue import Dialogue
from clinic.db import Database
from integrations.cli.main import run
from integrations.slack.door import SlackDoor
from integrations.slack.settings import SlackSettings
from integrations.slack.socket_mode import socket_handler
from tests.slack import harness
from tests.slack.conftest import NOW
from tests.slack.fake_slack import FakeSlack


@pytest.fixture()
def cli_db(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    return demo_db


def test_link_and_unlink(cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["slack", "link", "--staff", "c004", "--slack-user", "U0NEWPHONE9"]) == 0
    assert "linked c004" in capsys.readouterr().out
    linked = caller_for(cli_db, "U0NEWPHONE9")
    assert linked is not None and linked.staff_id == "c004"
    assert run(["slack", "link", "--staff", "c003", "--slack-user", "U0NEWPHONE9"]) != 0
    assert "already linked to c004" in capsys.readouterr().err
    assert run(["slack", "link", "--staff", "c003", "--slack-user", "brian"]) != 0
    assert "not a Slack user id" in capsys.readouterr().err
    assert run(["slack", "link", "--staff", "nobody", "--slack-user", "U0ABCDEF12"]) != 0
    assert run(["slack", "unlink", "--staff", "c004"]) == 0
    assert caller_for(cli_db, "U0NEWPHONE9") is None


def test_status_socket_mode_needs_its_token_and_manifest(
    cli_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    assert run(["slack", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["staff_linked"] == status["staff_total"] > 0
    assert status["http_configured"] is False
    assert run(["slack", "--socket"]) != 0
    err = capsys.readouterr().err
    assert "SLACK_APP_TOKEN" in err and "Traceback" not in err
    assert run(["slack", "manifest", "--url", "https://rota.clinic.test/slack/events"]) == 0
    out = capsys.readouterr().out
    assert out.count("https://rota.clinic.test/slack/events") == 3
    assert "example.org/slack/events" not in out


def test_socket_mode_feeds_the_same_door(demo_db: Database, fake_slack: FakeSlack) -> None:
    settings = SlackSettings(
        signing_secret=None, bot_token=harness.BOT_TOKEN, app_token="xapp-1", api_url=fake_slack.url
    )
    with demo_db.session() as session:
        from clinic.models import Staff

        user = session.get(Staff, "s006").slack_user_id
    acks: list[Any] = []

    class Client:  # what Bolt's adapter needs of the websocket client
        logger = __import__("logging").getLogger("test.socket")

        async def send_socket_mode_response(self, response: Any) -> None:
            acks.append(response.envelope_id)

    async def scenario() -> None:
        door = SlackDoor(demo_db, Dialogue(demo_db, clock=lambda: NOW), settings, sweep_seconds=0)
        handler = socket_handler(door, "xapp-1")
        await door.start()
        payload = json.loads(harness.event_body(harness.dm_event(user, "help"), "EvSOCK1"))
        for attempt, envelope in ((None, "e1"), (1, "e2")):  # Slack's retry of the same event
            await handler.handle(
                Client(),  # type: ignore[arg-type]
                SocketModeRequest("events_api", envelope, payload, retry_attempt=attempt),
            )
        while not door.idle():
            await asyncio.sleep(0.02)

    asyncio.run(scenario())
    assert acks == ["e1", "e2"]
    answers = fake_slack.of("chat.postMessage")
    assert len(answers) == 1 and "I can" in answers[0].texts()
