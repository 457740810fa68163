"""The operator's terminal: the commands a person types, their output and their exit codes."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from clinic.db import Database
from integrations.cli.main import run


@pytest.fixture()
def cli_db(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    return demo_db


def out_of(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_book_agenda_cancel_and_audit(cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    start = "2027-01-05T10:00"  # past the demo's weeks: nothing booked yet
    code = run(
        [
            "book",
            "--patient",
            "p0050",
            "--staff",
            "s006",
            "--type",
            "case_management",
            "--start",
            start,
            "--actor",
            "s001",
            "--json",
        ]
    )
    out, err = out_of(capsys)
    assert code == 0, err
    booked = json.loads(out)
    assert booked["start"].startswith(start) and booked["status"] == "booked"
    assert run(["agenda", "--staff", "s006", "--day", "2027-01-05"]) == 0
    assert booked["id"] in out_of(capsys)[0]
    assert run(["cancel", booked["id"]]) == 2  # --reason is required
    out_of(capsys)
    assert run(["cancel", booked["id"], "--reason", "patient asked", "--actor", "s001"]) == 0
    assert "cancelled" in out_of(capsys)[0]
    assert run(["audit", "show", "--entity", booked["id"], "--json"]) == 0
    events = json.loads(out_of(capsys)[0])
    assert [e["action"] for e in events] == ["appointment.book", "appointment.cancel"]
    assert events[1]["reason"] == "patient asked" and events[1]["actor"] == "s001"
    assert run(["audit", "verify"]) == 0
    assert "intact" in out_of(capsys)[0]


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (
            [
                "book",
                "--patient",
                "p0001",
                "--staff",
                "c001",
                "--type",
                "individual",
                "--start",
                "tomorrow",
            ],
            2,
            "is not a date-time",
        ),
        (
            [
                "book",
                "--patient",
                "p0001",
                "--staff",
                "nobody",
                "--type",
                "individual",
                "--start",
                "2026-12-01T10:00",
            ],
            4,
            "no staff member with id 'nobody'",
        ),
        (
            [
                "book",
                "--patient",
                "p0001",
                "--staff",
                "c004",
                "--type",
                "individual",
                "--start",
                "2026-12-05T10:00",
            ],
            5,
            "outside facility hours",
        ),
        (["cancel", "nope", "--reason", "x"], 4, "no appointment 'nope'"),
        (["agenda", "--staff", "c001", "--patient", "p0001"], 2, "at most one of"),
        (["agenda", "--room", "attic"], 4, "no room with id 'attic'"),
        (["status", "a00001", "vanished"], 2, "unknown status"),
        (["move", "a00001", "--reason", "x"], 2, "say what changes"),
        (["demo", "--size", "xxl"], 2, "unknown demo size"),
    ],
)
def test_errors_are_one_clear_line_and_an_exit_code(
    cli_db: Database, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, words: str
) -> None:
    assert run(argv) == code
    err = out_of(capsys)[1]
    assert words in err
    assert "Traceback" not in err


def test_a_database_that_cannot_be_opened_is_named_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite3'}"
    monkeypatch.setenv("ROTA_DATABASE_URL", url)
    assert run(["agenda"]) == 1
    err = out_of(capsys)[1]
    assert err.startswith(f"rota: cannot open the database {url}: unable to open database file")
    assert "internal error" not in err and len(err.splitlines()) == 1


def test_an_empty_database_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert run(["agenda"]) == 2
    assert "rota demo --load" in out_of(capsys)[1]
    assert run([]) == 0
    assert "empty.sqlite3" in out_of(capsys)[0]
    assert run(["export"]) == 2


def test_the_installed_command_runs_make_run_steps(tmp_path: Path) -> None:
    """What `make run` does, as a subprocess: load the demo once, then show the agenda."""
    env = {
        "ROTA_DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "PATH": "/usr/bin:/bin",
        "ROTA_OPERATOR": "operator",  # as the Makefile's run target sets it
    }
    cmd = [sys.executable, "-m", "integrations.cli.main"]
    first = subprocess.run(
        [*cmd, "demo", "--load-if-empty"],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert first.returncode == 0, first.stderr
    assert "loaded demo facility" in first.stdout
    again = subprocess.run(
        [*cmd, "demo", "--load-if-empty"],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert "already loaded" in again.stdout
    agenda = subprocess.run(
        [*cmd, "agenda"],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert agenda.returncode == 0 and "Agenda for whole facility" in agenda.stdout


def test_the_operator_records_attendance_and_other_actors_need_the_role(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's `rota status APPT …` works as the operator (the director's rights now
    include recording attendance); an actor the pack gives no role is refused (exit 3)."""
    assert run(["agenda", "--staff", "c004", "--day", "2026-12-01", "--json"]) == 0
    [first, *_] = json.loads(out_of(capsys)[0])["appointments"]
    assert run(["status", first["id"], "checked_in", "--actor", "someone"]) == 3
    assert "may not record attendance" in out_of(capsys)[1]
    assert run(["status", first["id"], "checked_in"]) == 0
    assert "[checked_in]" in out_of(capsys)[0]


def _tour() -> list[list[str]]:
    """The commands of the README's "A short tour", one argv each: comments, optional
    `[...]` parts and the `a | b` alternatives split apart, the leading `rota` dropped."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## A short tour", 1)[1].split("```")[1]
    commands = []
    for line in block.splitlines():
        line = re.sub(r"\[[^\]]*\]", "", line.split("#", 1)[0])
        for command in line.split(" | "):
            if command.strip().startswith("rota "):
                commands.append(shlex.split(command)[1:])
    return commands


def test_the_readme_tour_runs_as_printed(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tour's ids and dates are demo s, seed 7, started 2026-11-30 (the demo_db fixture).
    tour = {" ".join(argv[:2]): argv for argv in _tour()}
    expected = {"check --actor": 3}  # the tour's check shows a refusal and its rules
    for key in ("agenda --staff", "slots --patient", "check --actor", "rules show", "parse --now"):
        assert run(tour[key]) == expected.get(key, 0), (key, out_of(capsys)[1])
        assert out_of(capsys)[0]
    assert run([*tour["book --patient"], "--json"]) == 0, out_of(capsys)[1]
    appt = json.loads(out_of(capsys)[0])["id"]
    for key in ("move APPT", "cancel APPT"):
        argv = [appt if a == "APPT" else a for a in tour[key]]
        assert run(argv) == 0, (key, out_of(capsys)[1])
    assert "cancelled" in out_of(capsys)[0]
