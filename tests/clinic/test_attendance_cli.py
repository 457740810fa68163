"""`rota attendance …` at the terminal: the unmarked list by role, a mark, a delay's knock-on."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clinic.db import Database
from integrations.cli.main import run

NOW = "2026-11-30T10:05"  # demo 's': seven sessions have started by then, none marked


@pytest.fixture()
def cli_db(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    return demo_db


def test_unmarked_for_the_facility_one_clinician_and_a_clinician_themself(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["attendance", "unmarked", "--now", NOW, "--json"]) == 0
    everyone = json.loads(capsys.readouterr().out)["appointments"]
    assert len(everyone) == 7 and everyone[0]["id"] == "a00216"
    assert run(["attendance", "unmarked", "--now", NOW, "--staff", "c003"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Unmarked on Mon 30 Nov 2026: 2") and "Amanda Diaz" in out
    assert run(["attendance", "unmarked", "--now", NOW, "--actor", "c004"]) == 0
    out = capsys.readouterr().out
    assert "Unmarked on Mon 30 Nov 2026: 1" in out and "Kevin Fowler" in out
    assert run(["attendance", "unmarked", "--now", NOW, "--actor", "c004", "--staff", "c003"]) == 3
    assert "only its own unmarked sessions" in capsys.readouterr().err
    assert run(["attendance", "unmarked", "--day", "2026-13-01"]) != 0
    assert "--day: '2026-13-01' is not a date" in capsys.readouterr().err


def test_mark_refuses_another_clinicians_session_and_records_ones_own(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["attendance", "mark", "a00216", "attended", "--actor", "c003"]) == 3
    assert "only for sessions they hold" in capsys.readouterr().err
    assert run(["attendance", "mark", "a00216", "attended", "--actor", "c004", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "attended"
    assert run(["attendance", "mark", "a00216", "present", "--actor", "c004"]) != 0
    assert "action: must be one of" in capsys.readouterr().err


def test_delay_shows_the_knock_on_then_applies_a_way(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["attendance", "delay", "a00267", "--minutes", "10", "--actor", "s004"]) == 0
    out = capsys.readouterr().out
    assert "a00267 runs 14:10–14:55 at full length" in out
    assert "shares ind-1; gap 15 -> 5 min" in out
    assert "way push: a00220 to 15:15, a00234 to 16:15" in out
    code = run(
        ["attendance", "delay", "a00267", "--minutes", "10", "--apply", "push", "--actor", "s004"]
    )
    assert code == 0
    assert "15:15–16:00" in capsys.readouterr().out


def test_a_therapist_proposes_the_push_they_may_not_make(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["attendance", "delay", "a00267", "--minutes", "20", "--over", "--actor", "c004"]
    assert run([*base, "--apply", "push"]) == 3  # not theirs to make
    capsys.readouterr()
    assert run([*base, "--propose"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("proposal P-") and "(knock_on): 3 session(s) to move" in out
    assert run([*base, "--propose", "--apply", "push"]) == 2
    assert "leave out --apply" in capsys.readouterr().err


def test_mark_one_member_of_a_group(
    cli_db: Database, capsys: pytest.CaptureFixture[str], set_now: Any
) -> None:
    set_now(datetime(2026, 11, 30, 16, 0, tzinfo=ZoneInfo("America/New_York")))
    assert run(["attendance", "mark", "a00012", "no_show", "--actor", "c004"]) != 0
    assert "patient: required" in capsys.readouterr().err
    args = ["attendance", "mark", "a00012", "no_show", "--patient", "p0022", "--actor", "c004"]
    assert run(args) == 0
    assert capsys.readouterr().out.startswith("a00012: p0022 no_show")
    assert run([*args[:4], "--patient", "p0017", "--actor", "c004", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["status"] == "booked"
    assert record["outcomes"] == {"p0022": "no_show", "p0017": "no_show"}
