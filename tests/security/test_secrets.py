"""Secrets come from the environment only, and are not echoed back: the database URL's
password never reaches a terminal; Slack's signing secret is what verifies requests."""

from __future__ import annotations

import pytest

from clinic.db import DATABASE_URL_ENV, shown_url
from integrations.cli.main import run
from integrations.slack.settings import SlackSettings

URL = "postgresql+psycopg://rota:s3cr3t-pw@db.internal:5432/rota"


@pytest.mark.parametrize("argv", [["db", "where"], []])
def test_the_database_password_is_never_printed(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, URL)
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "s3cr3t-pw" not in out
    assert "postgresql+psycopg://rota:***@db.internal:5432/rota" in out


def test_a_url_that_is_not_one_is_not_echoed() -> None:
    assert shown_url("not a url with a s3cr3t") == "(not a database URL)"


def test_slack_secrets_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert not SlackSettings.from_env().configured  # no built-in default stands in for one
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "from-env")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    settings = SlackSettings.from_env()
    assert (settings.signing_secret, settings.bot_token) == ("from-env", "xoxb-from-env")
