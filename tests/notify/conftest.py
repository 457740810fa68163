from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from assistant import outbox
from clinic.db import Database
from integrations import notify
from tests.notify.peers import SmtpPeer, TwilioPeer

MONDAY_10AM = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 10:00 in New York


@pytest.fixture()
def smtp() -> Iterator[SmtpPeer]:
    with SmtpPeer() as peer:
        yield peer


@pytest.fixture()
def twilio() -> Iterator[TwilioPeer]:
    with TwilioPeer() as peer:
        yield peer


@pytest.fixture()
def channels(
    smtp: SmtpPeer, twilio: TwilioPeer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    """Both channels configured from the environment, as `rota serve` would."""
    env = {
        "ROTA_SMTP_URL": smtp.url,
        "ROTA_MAIL_FROM": "appointments@example.org",
        "ROTA_CLINIC_ADDRESS": "12 Elm Street",
        "ROTA_CALLBACK_NUMBER": "555-0100",
        **twilio.env(),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield notify.configure()
    outbox.use_senders({})


@pytest.fixture()
def at(demo_db: Database, set_now: Callable[[datetime], None]) -> Callable[[datetime], None]:
    return set_now
