"""`rota series book|show|move|cancel` at the terminal (the small series clinic of
tests/assistant/test_series.py; the clock fixed at Mon 30 Nov 2026 08:30 New York)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest

from clinic.db import Database
from clinic.facility_file import load_facility
from integrations.cli.main import run
from tests.assistant.test_series import NOW, facility

BOOK = ["series", "book", "jamie", "--staff", "dana", "--weekday", "tuesday", "--time", "14:00"]


@pytest.fixture()
def cli(
    db: Database, monkeypatch: pytest.MonkeyPatch, set_now: Callable[[datetime], None]
) -> Callable[..., Database]:
    set_now(NOW)
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)

    def load(**kwargs: object) -> Database:
        load_facility(db, facility(**kwargs), actor="test")  # type: ignore[arg-type]
        return db

    return load


def test_book_show_move_and_cancel(
    cli: Callable[..., Database], capsys: pytest.CaptureFixture[str]
) -> None:
    cli()
    assert run([*BOOK, "--count", "4", "--actor", "casey", "--json"]) == 0
    sid = json.loads(capsys.readouterr().out)["series"]["id"]
    assert run(["series", "move", sid, "--from", "3", "--time", "16:00", "--reason", "x"]) == 0
    assert "2 session(s) moved" in capsys.readouterr().out
    assert run(["series", "show", sid]) == 0
    shown = capsys.readouterr().out
    assert "every tue at 16:00" in shown and shown.count("T16:00") == 2
    assert run(["series", "cancel", sid, "--scope", "this", "--from", "1", "--reason", "ill"]) == 0
    assert "1 session(s) cancelled" in capsys.readouterr().out
    assert run(["series", "cancel", sid, "--reason", "discharged"]) == 0
    assert "3 session(s) cancelled" in capsys.readouterr().out


def test_a_refused_series_lists_each_week_and_exits_5(
    cli: Callable[..., Database], capsys: pytest.CaptureFixture[str]
) -> None:
    cli(leave="2026-12-15")
    assert run([*BOOK, "--count", "8"]) == 5
    err = capsys.readouterr().err
    assert "1 of 8 week(s) cannot be booked; nothing was changed" in err
    assert "Tue 15 Dec: Dana Reyes (dana) is unavailable" in err and "annual leave" in err
    assert run([*BOOK, "--count", "8", "--skip-failing"]) == 0
    out = capsys.readouterr().out
    assert "7 session(s) booked" in out and "skipped Tue 15 Dec" in out
    assert run([*BOOK, "--count", "0"]) == 2
    assert "1 to 52" in capsys.readouterr().err


def test_a_holiday_added_at_the_terminal_is_named_in_a_series(
    cli: Callable[..., Database], capsys: pytest.CaptureFixture[str]
) -> None:
    cli()
    assert (
        run(["holiday", "add", "2026-12-22", "--reason", "Winter break", "--to", "2026-12-23"]) == 0
    )
    assert "Winter break" in capsys.readouterr().out
    assert run(["holiday", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["end"] == "2026-12-24T00:00-05:00"
    assert run([*BOOK, "--count", "8"]) == 5
    err = capsys.readouterr().err
    assert "Tue 22 Dec: the facility is closed" in err and "(Winter break)" in err
    assert run(["holiday", "add", "2026-12-22", "--reason", "x", "--actor", "dana"]) == 3
