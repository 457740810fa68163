"""The Slack door driven through the real Litestar route with signed requests, against a fake
Slack Web API (demo 's' facility; the dialogue's clock is fixed at Mon 30 Nov 2026 08:30)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from assistant.dialogue import Dialogue
from clinic.db import Database
from clinic.models import Staff
from integrations.http.app import create_app
from integrations.slack.door import SlackDoor
from integrations.slack.route import door_of
from tests.slack import harness
from tests.slack.fake_slack import Call, FakeSlack

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=NY)


@pytest.fixture()
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture()
def slack_env(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", harness.SIGNING_SECRET)
    monkeypatch.setenv("SLACK_BOT_TOKEN", harness.BOT_TOKEN)
    monkeypatch.setenv("ROTA_SLACK_API_URL", fake_slack.url)
    monkeypatch.setenv("ROTA_SLACK_BACKOFF", "0.05")
    monkeypatch.setenv("ROTA_SLACK_TIMEOUT", "2")


class Slack:
    """Slack, as seen from Rota: people type, click, and Rota answers through the fake API."""

    def __init__(self, client: TestClient, door: SlackDoor, fake: FakeSlack, db: Database) -> None:
        self.client, self.door, self.fake, self.db = client, door, fake, db
        with db.session() as session:
            self.user = {s.id: s.slack_user_id for s in session.scalars(select(Staff))}

    def post(self, body: str, content_type: str, *, retry: int | None = None, **kw: Any) -> Any:
        data, headers = harness.signed(body, content_type, retry=retry, **kw)
        return self.client.post("/slack/events", content=data, headers=headers)

    def send_event(self, event: dict[str, Any], event_id: str | None = None, **kw: Any) -> Any:
        response = self.post(harness.event_body(event, event_id), "application/json", **kw)
        assert response.status_code == 200, response.text
        return response

    def dm(self, staff: str, text: str, **kw: Any) -> Any:
        return self.send_event(harness.dm_event(self.user[staff], text), **kw)

    def mention(self, staff: str, channel: str, text: str) -> Any:
        return self.send_event(harness.mention_event(self.user[staff], channel, text))

    def command(self, staff: str, channel: str, text: str) -> Any:
        body = harness.command_body(self.user[staff], channel, text)
        response = self.post(body, "application/x-www-form-urlencoded")
        assert response.status_code == 200, response.text
        return response

    def press(self, staff: str, call: Call, action_id: str) -> Any:
        body = harness.press_body(self.user[staff], call, action_id)
        response = self.post(body, "application/x-www-form-urlencoded")
        assert response.status_code == 200, response.text
        return response

    def wait(self, timeout: float = 60.0) -> None:
        """Until every request is answered and every message sent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.door.idle():
                return
            time.sleep(0.02)
        raise AssertionError("the Slack door did not finish in time")

    def dm_to(self, staff: str) -> list[Call]:
        """Messages that reached a staff member's DM with the bot (posts and updates)."""
        channel = harness.dm_channel(self.user[staff])
        return [c for c in self.fake.messages() if c.channel == channel]


@pytest.fixture()
def slack(demo_db: Database, slack_env: None, fake_slack: FakeSlack) -> Iterator[Slack]:
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    door = door_of(app)
    assert door is not None
    with TestClient(app) as client:
        yield Slack(client, door, fake_slack, demo_db)
