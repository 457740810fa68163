"""`rota parse` / `rota redact`, and the roster loaded from the demo database."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from assistant.parse import parse
from assistant.phi import redactor_for
from assistant.roster import load_roster
from clinic.db import Database
from integrations.cli.main import run

NOW = "2026-12-02T10:15"


@pytest.fixture()
def cli_db(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    monkeypatch.delenv("ROTA_LLM", raising=False)
    return demo_db


def test_roster_from_the_demo_database(demo_db: Database) -> None:
    with demo_db.session() as session:
        roster = load_roster(session)
    assert roster.timezone == "America/New_York"
    assert len(roster.patients) >= 60 and len(roster.staff) >= 8 and roster.rooms
    patient = roster.patients[0]
    assert any(kind == "MRN" for kind, _ in patient.identifiers)
    frame = parse(f"find a slot for {patient.name} tomorrow", roster=roster,
                  now=datetime.fromisoformat(NOW + "-05:00"))  # fmt: skip
    assert frame["patient"]["id"] == patient.id or patient.id in frame["patient"]["candidates"]
    doctor = next(s for s in roster.staff if s.name.startswith("Dr. "))
    surname = doctor.name.split()[-1]
    frame = parse(f"is Dr. {surname} free friday", roster=roster,
                  now=datetime.fromisoformat(NOW + "-05:00"))  # fmt: skip
    assert frame["staff"]["id"] == doctor.id or doctor.id in frame["staff"]["candidates"]
    # every patient name and family contact in the database is redacted, misspelt or not
    red = redactor_for(roster)
    for p in roster.patients[:40]:
        first, last = p.name.split()[0], p.name.split()[-1]
        typo = last[:-2] + last[-1] + last[-2] if len(last) > 4 else last
        out = str(red.redact(f"call {first} {typo} about the group").text)
        assert first not in out and typo not in out, out
        for relative in p.family:
            assert relative.split()[0] not in str(red.redact(f"her contact {relative}").text)


def test_parse_prints_a_frame(cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    with cli_db.session() as session:
        patient = load_roster(session).patients[3]
    code = run(["parse", "--now", NOW, "--as", "c001", f"book {patient.name} tomorrow at 2pm"])
    out = capsys.readouterr().out
    assert code == 0
    frame = json.loads(out)
    assert frame["intent"] == "book" and frame["patient"]["id"] == patient.id
    assert frame["window"]["start"] == "2026-12-03T14:00:00-05:00"


def test_parse_jsonl_reads_stdin(
    cli_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("running 20 min late\n\nhelp\n"))
    assert run(["parse", "--now", NOW, "--as", "c001", "--jsonl"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["intent"] for line in lines] == ["staff_unavailable", "help"]
    assert json.loads(lines[0])["staff"] is None  # the sender: the dialogue takes the actor


def test_redact_never_prints_originals(
    cli_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with cli_db.session() as session:
        patient = load_roster(session).patients[5]
    message = f"{patient.name} cell 555-201-7788 DOB 3/14/1962"
    monkeypatch.setattr("sys.stdin", io.StringIO(message + "\n"))
    assert run(["redact", "--jsonl"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert doc["text"] == "<PATIENT_1> cell <PHONE_1> DOB <DATE_1>"
    assert {e["type"] for e in doc["entities"]} == {"PATIENT", "PHONE", "DATE"}
    for word in (*patient.name.split(), "555-201-7788", "3/14/1962"):
        assert word not in out


def test_bad_input_is_one_line_and_non_zero(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["parse", "--now", "yesterday-ish", "hi"]) == 2
    assert run(["parse", "--now", NOW, "--as", "nobody", "hi"]) == 2
    assert run(["parse", "--now", NOW]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 3


def test_empty_database_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert run(["parse", "--now", "2026-12-02T10:15:00Z", "cancel Jamie's 2pm"]) == 0
    frame = json.loads(capsys.readouterr().out)
    assert frame["intent"] == "cancel" and frame["window"]["start"] == "2026-12-02T14:00:00+00:00"
    assert run(["redact", "Jordan Blake 555-201-7788"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == "<PERSON_1> <PHONE_1>"


def test_missing_llm_package_is_a_warning(
    cli_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("langchain_core")
    try:
        import langchain_openai  # noqa: F401

        pytest.skip("langchain-openai is installed here")
    except ImportError:
        pass
    monkeypatch.setenv("ROTA_LLM", "openai:gpt-4o-mini")
    assert run(["parse", "--now", NOW, "zzz"]) == 0
    captured = capsys.readouterr()
    assert "pip install langchain-openai" in captured.err
    assert json.loads(captured.out)["parser"] == "rules"
