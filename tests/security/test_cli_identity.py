"""The command line acts with rights only when an operator is configured (issue 19, item 2):
ROTA_OPERATOR or `rota login`; otherwise it is the read-only `viewer`, and a write says how."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from clinic.audit import iter_events
from clinic.db import Database
from clinic.models import Appointment, Patient
from clinic.tokens import create_token, revoke_tokens
from integrations.cli import identity
from integrations.cli.main import run

BOOK = [
    "book", "--patient", "p0050", "--staff", "s006", "--type", "case_management",
    "--start", "2027-01-05T10:00",
]  # fmt: skip


@pytest.fixture()
def cli_db(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    monkeypatch.delenv("ROTA_OPERATOR")  # the conftest's operator: this file tests without one
    return demo_db


def appointments(db: Database) -> int:
    with db.read() as session:
        return len(list(session.scalars(select(Appointment.id))))


def test_without_an_operator_a_write_says_what_to_set_and_reading_still_works(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    before = appointments(cli_db)
    for write in (BOOK, [*BOOK, "--actor", "s001"], ["token", "create", "--staff", "s001"]):
        assert run(write) == 3
        err = capsys.readouterr().err
        assert err.strip() == f"rota: {identity.HINT}" and len(err.strip().splitlines()) == 1
    assert appointments(cli_db) == before  # --actor is not honoured without an operator
    assert run(["agenda", "--day", "2026-11-30"]) == 0
    shown = capsys.readouterr().out
    assert "booked" in shown
    with cli_db.read() as session:  # the viewer sees times and rooms, never a patient
        names = list(session.scalars(select(Patient.name)))
    assert not [n for n in names if n in shown]


def test_rota_operator_acts_and_actor_records_for_whom(
    cli_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROTA_OPERATOR", "operator")
    assert run([*BOOK, "--actor", "s001", "--json"]) == 0
    booked = json.loads(capsys.readouterr().out)
    with cli_db.read() as session:
        [actor] = [e.actor for e in iter_events(session, booked["id"])]
    assert actor == "s001"


def test_login_keeps_a_digest_in_a_private_file_and_ends_with_the_token(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    with cli_db.session() as session:
        secret = create_token(session, "s001", scope="admin")
    assert run(["login", "--token", secret]) == 0
    assert "s001" in capsys.readouterr().out
    stored = identity.login_file()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert secret not in stored.read_text() and secret[5:] not in stored.read_text()
    assert run([*BOOK, "--json"]) == 0  # acts as s001, the director
    booked = json.loads(capsys.readouterr().out)
    with cli_db.read() as session:
        assert [e.actor for e in iter_events(session, booked["id"])] == ["s001"]
    with cli_db.session() as session:
        revoke_tokens(session, "s001")
    assert run(["cancel", booked["id"], "--reason", "test"]) == 3  # read-only again
    assert identity.HINT in capsys.readouterr().err
    assert run(["logout"]) == 0 and not Path(stored).exists()


def test_a_wrong_token_at_login_is_refused_and_recorded(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["login", "--token", "rota_not-a-real-token"]) == 3
    err = capsys.readouterr().err
    assert "not known" in err and "rota_not-a-real-token" not in err
    assert not identity.login_file().exists()


def test_token_list_never_shows_a_token_and_rotate_prints_the_new_one_once(
    cli_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROTA_OPERATOR", "operator")
    assert run(["token", "create", "--staff", "s001", "--scope", "read", "--days", "7"]) == 0
    first = capsys.readouterr().out.split()[-1]
    assert run(["token", "rotate", "--staff", "s001"]) == 0
    second = capsys.readouterr().out.split()[-1]
    assert second.startswith("rota_") and second != first
    assert run(["token", "list", "--staff", "s001", "--json"]) == 0
    listed = capsys.readouterr().out
    rows = json.loads(listed)
    assert [(r["scope"], r["revoked_at"] is None) for r in rows] == [
        ("read", False), ("booking", True),
    ]  # fmt: skip
    assert first not in listed and second not in listed
    assert run(["token", "create", "--staff", "s001", "--scope", "root"]) == 2
    assert "read, booking, admin" in capsys.readouterr().err
    assert run(["token", "create", "--staff", "s001", "--days", "0"]) == 2
