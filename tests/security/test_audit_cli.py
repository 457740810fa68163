"""`rota audit access` and `rota audit disclosures`: who saw a patient's information, and what
left the facility about them (42 CFR Part 2 accounting); bad input is a sentence and exit 1."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant import callers
from assistant.court_report import court_report
from assistant.disclosure import Disclose, disclose
from clinic.db import Database
from integrations.cli.main import run
from tests.conftest import pin_clock
from tests.security.conftest import AccessRows

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=NY)
demo_clock = pin_clock(NOW)
KEVIN, DIRECTOR, FRONT_DESK = "p0002", "s001", "s004"  # Kevin Fowler is court-ordered


def test_disclosures_list_the_court_report_but_not_a_colleague_s_dm(
    demo_db: Database, audit_access: AccessRows, capsys: pytest.CaptureFixture[str]
) -> None:
    court_report(demo_db, callers.for_staff(demo_db, DIRECTOR, "http"), KEVIN, now=NOW)
    dm = Disclose(
        actor=DIRECTOR,
        action="view_schedule",
        channel="dm",
        recipient="workforce",
        recipient_staff=FRONT_DESK,
        patients=(KEVIN,),
        purpose="Slack message",
    )
    disclose(demo_db, dm)
    capsys.readouterr()
    assert run(["audit", "disclosures", "--patient", KEVIN]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == 1 and "to court" in lines[0] and "court_report" in lines[0], out
    assert "allowed" in lines[0]
    # Both were reads: the director's report, the front desk's DM.
    rows = audit_access(KEVIN)
    assert {(r["actor"], r["door"], r["action"]) for r in rows} == {
        (DIRECTOR, "http", "report.view"),
        (FRONT_DESK, "slack", "slack.dm"),
    }


def test_access_by_dates_and_an_export(audit_access: AccessRows, tmp_path: Path) -> None:
    assert run(["export", "--out", str(tmp_path / "facility.json")]) == 0
    today = audit_access(KEVIN, "--from", "2026-11-30", "--to", "2026-11-30")
    assert [(r["actor"], r["door"], r["action"]) for r in today] == [("operator", "cli", "export")]
    assert audit_access(KEVIN, "--from", "2026-12-01") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["access", "--patient", "p9999"], "there is no patient 'p9999'"),
        (["disclosures", "--patient", "p9999"], "there is no patient 'p9999'"),
        (["access", "--patient", KEVIN, "--from", "2026-12-05", "--to", "2026-12-01"], "--to"),
        (["access", "--patient", KEVIN, "--from", "monday"], "is not a date"),
    ],
)
def test_bad_input_is_one_sentence_and_a_failure(
    audit_access: AccessRows, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    capsys.readouterr()
    assert run(["audit", *args]) != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
