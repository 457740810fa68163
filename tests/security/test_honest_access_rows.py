"""The access log says what was shown (issue 19): a refused question is `denied` at every door,
never also `allowed` (a Slack reply that refuses says back only what the asker named); a reply
or an agenda that names no patient writes no row about one."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from clinic.db import Database
from integrations.cli.main import run
from tests.security.conftest import OTHERS_NAME, OTHERS_PATIENT, THERAPIST, AccessRows, chat
from tests.slack.conftest import Slack
from tests.web.test_approvals import Client

QUESTION = f"when is {OTHERS_NAME}'s next appointment?"


def test_a_slack_refusal_is_denied_and_nothing_else(slack: Slack, audit_access: AccessRows) -> None:
    slack.dm(THERAPIST, QUESTION)
    slack.wait()
    answer = slack.dm_to(THERAPIST)[-1]
    assert "can't do that" in answer.texts() and OTHERS_NAME in answer.texts()
    # The refusal names the patient the asker named: a lock screen's preview does not.
    assert OTHERS_NAME not in str(answer.args.get("text", ""))
    rows = audit_access(OTHERS_PATIENT)
    assert [(r["door"], r["outcome"]) for r in rows] == [("slack", "denied")], rows


def test_chat_and_web_chat_refusals_are_denied_and_nothing_else(
    client: TestClient,
    demo_db: Database,
    signed_in_client: Client,
    audit_access: AccessRows,
) -> None:
    assert "can't do that" in chat(client, demo_db, THERAPIST, QUESTION)
    web = signed_in_client(THERAPIST).post("/chat", data={"message": QUESTION})
    assert web.status_code == 200 and "own caseload" in web.text
    rows = audit_access(OTHERS_PATIENT)
    assert rows and {r["outcome"] for r in rows} == {"denied"}, rows
    assert {r["door"] for r in rows} == {"http", "web"}, rows


def test_a_slack_reply_naming_no_patient_writes_no_patient_row(
    slack: Slack, audit_access: AccessRows
) -> None:
    slack.dm(THERAPIST, "help")
    slack.wait()
    assert slack.dm_to(THERAPIST)
    assert audit_access(OTHERS_PATIENT) == []


def test_an_agenda_that_shows_no_patient_writes_no_row_about_one(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    audit_access: AccessRows,
) -> None:
    """With no operator configured the command line is read-only (`viewer`): times and rooms,
    no patients, so its agenda is no read of anyone's information."""
    monkeypatch.delenv("ROTA_OPERATOR", raising=False)
    assert run(["agenda", "--day", "2026-12-01", "--days", "5", "--json"]) == 0
    shown = capsys.readouterr().out
    assert '"patients"' not in shown and '"start"' in shown
    monkeypatch.setenv("ROTA_OPERATOR", "operator")  # the director's rights: names, so rows
    assert audit_access(OTHERS_PATIENT) == []
    assert run(["agenda", "--day", "2026-12-01", "--days", "5", "--json"]) == 0
    assert {r["action"] for r in audit_access(OTHERS_PATIENT)} == {"schedule.view"}
