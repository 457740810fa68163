"""Attack and accounting tests: the demo facility seen through every door, and the command line
that answers "who saw this patient?". They reuse the doors' own fixtures: the HTTP app with a
fixed dialogue clock, signed-in web clients, and Slack through the real Bolt route against a
fake Slack API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from assistant.dialogue import Dialogue
from clinic.db import Database
from clinic.tokens import create_token
from integrations.cli.main import run
from integrations.http.app import create_app
from tests.slack.conftest import NOW, fake_slack, slack, slack_env  # noqa: F401  (fixtures)
from tests.web.conftest import signed_in_client, web_app  # noqa: F401  (fixtures)

AccessRows = Callable[..., list[dict[str, Any]]]
THERAPIST, OTHER_THERAPIST = "c004", "c005"  # Brian Romero; Dr. Benjamin Hamilton
OWN_PATIENT = "p0002"  # Kevin Fowler: Brian Romero's caseload
OTHERS_PATIENT, OTHERS_NAME = "p0008", "Laura Fox"  # Esperanza Nevárez's (c007) caseload
CLINICAL_DIRECTOR, FRONT_DESK, INTAKE, CASE_MANAGER = "s001", "s004", "s002", "s006"
REASON = "crisis call from the patient"


@pytest.fixture()
def client(demo_db: Database) -> Iterator[TestClient]:
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    with TestClient(app) as test_client:
        yield test_client


def bearer(db: Database, staff: str) -> dict[str, str]:
    with db.session() as session:
        return {"Authorization": f"Bearer {create_token(session, staff)}"}


def chat(client: TestClient, db: Database, staff: str, message: str) -> str:
    """One message to /api/chat as `staff`; the reply's words."""
    answer = client.post("/api/chat", json={"message": message}, headers=bearer(db, staff))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["reply"])


@pytest.fixture()
def audit_access(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> AccessRows:
    """`audit_access("p0002")`: what `rota audit access --patient p0002 --json` prints."""
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)

    def rows(patient: str, *extra: str) -> list[dict[str, Any]]:
        capsys.readouterr()
        code = run(["audit", "access", "--patient", patient, *extra, "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        return json.loads(out)

    return rows
