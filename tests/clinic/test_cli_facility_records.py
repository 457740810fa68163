"""`rota staff|group|room`: the facility's standing records from the terminal (demo 's')."""

from __future__ import annotations

import json
from datetime import datetime as _datetime
from zoneinfo import ZoneInfo as _ZoneInfo

import pytest

from clinic.db import Database
from clinic.facility_file import export_facility
from integrations.cli.main import run
from tests.conftest import pin_clock

demo_clock = pin_clock(_datetime(2026, 11, 30, 8, 0, tzinfo=_ZoneInfo("America/New_York")))
"""The demo's Monday, whatever the wall clock says (the tests read "now" against it)."""


@pytest.fixture()
def cli_db(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    monkeypatch.setenv("ROTA_SOLVER_TIME_LIMIT", "2")
    return demo_db


def out_of(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_staff_add_update_and_leave(cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    bad = json.dumps({"id": "c009", "name": "Jamie Park", "role": "intern", "supervisor": "c999"})
    assert run(["staff", "add", bad]) == 2
    assert "$.supervisor" in out_of(capsys)[1]
    good = json.dumps({"id": "c009", "name": "Jamie Park", "role": "intern", "supervisor": "c003"})
    assert run(["staff", "add", good]) == 0, out_of(capsys)[1]
    assert "added Jamie Park (c009, intern)" in out_of(capsys)[0]
    code = run(
        ["staff", "update", "c009", "--max-minutes-per-week", "900", "--specializations", "trauma"]
    )
    assert code == 0, out_of(capsys)[1]
    out_of(capsys)
    member = next(s for s in export_facility(cli_db)["staff"] if s["id"] == "c009")
    assert member["max_minutes_per_week"] == 900 and member["specializations"] == ["trauma"]
    assert run(["staff", "leave", "c004", "--from", "2026-12-01T00:00"]) == 2
    assert "--to" in out_of(capsys)[1]
    code = run(
        [
            "staff",
            "leave",
            "c004",
            "--from",
            "2026-12-01T00:00",
            "--to",
            "2026-12-02T00:00",
            "--json",
        ]
    )
    out, err = out_of(capsys)
    assert code == 0, err
    assert json.loads(out)["staff"] == "c004" and json.loads(out)["affected"] > 0


def test_group_enrol_remove_and_refusals(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["group", "enrol", "g02", "p0003"]) == 0, out_of(capsys)[1]
    assert "p0003 enrolled in g02 (9 members)" in out_of(capsys)[0]
    assert run(["group", "enrol", "g01", "p0008"]) == 3  # a closed cohort: a rule refuses
    err = out_of(capsys)[1]
    assert "$.patient" in err and "GRP-CLOSED-COHORT" in err
    assert (
        "p0008"
        not in next(g for g in export_facility(cli_db)["groups"] if g["id"] == "g01")["members"]
    )
    assert run(["group", "remove", "g02", "p0003"]) == 0
    assert "removed from g02 (8 members)" in out_of(capsys)[0]


def test_room_close_proposes_the_repair(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        [
            "room",
            "close",
            "ind-1",
            "--from",
            "2026-12-01T00:00",
            "--to",
            "2026-12-02T00:00",
            "--reason",
            "painting",
        ]
    )
    out, err = out_of(capsys)
    assert code == 0, err
    assert out.startswith("proposal P-") and "session(s) to move" in out
    assert run(["room", "close", "ind-1", "--from", "soon", "--to", "2026-12-02T00:00"]) == 2
    assert "--from" in out_of(capsys)[1]
    closures = next(r for r in export_facility(cli_db)["rooms"] if r["id"] == "ind-1")[
        "unavailable"
    ]
    assert closures == [
        {
            "start": "2026-12-01T00:00:00-05:00",
            "end": "2026-12-02T00:00:00-05:00",
            "reason": "painting",
        }
    ]
