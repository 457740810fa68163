"""Attack and accounting tests: the demo facility seen through every door, the command line
that answers "who saw this patient?", and the app with a director's bearer token and web
session (headers, limits, transport). They reuse the doors' own fixtures: the HTTP app with a
fixed dialogue clock, signed-in web clients, and Slack through the real Bolt route against a
fake Slack API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from assistant.dialogue import Dialogue
from clinic.db import Database
from clinic.tokens import create_token
from integrations.cli.main import run
from integrations.http.app import create_app
from integrations.web.session import CSRF_HEADER, SESSION_COOKIE
from tests.notify.conftest import channels, smtp, twilio  # noqa: F401  (fixtures)
from tests.slack.conftest import NOW, fake_slack, slack, slack_env  # noqa: F401  (fixtures)
from tests.web.browser import sign_in
from tests.web.conftest import signed_in_client, web_app  # noqa: F401  (fixtures)

AccessRows = Callable[..., list[dict[str, Any]]]
THERAPIST, OTHER_THERAPIST = "c004", "c005"  # Brian Romero; Dr. Benjamin Hamilton
OWN_PATIENT = "p0002"  # Kevin Fowler: Brian Romero's caseload
OTHERS_PATIENT, OTHERS_NAME = "p0008", "Laura Fox"  # Esperanza Nevárez's (c007) caseload
CLINICAL_DIRECTOR, FRONT_DESK, INTAKE, CASE_MANAGER = "s001", "s004", "s002", "s006"
REASON = "crisis call from the patient"


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


@dataclass
class Credentials:
    bearer: dict[str, str]
    cookie: str
    csrf: str


@pytest.fixture()
def app(demo_db: Database) -> Litestar:
    """The whole app on the demo facility; its dialogue's clock is the Slack tests' NOW."""
    return create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))


@pytest.fixture()
def director(demo_db: Database) -> Credentials:
    with demo_db.session() as session:
        token = create_token(session, "s001")
    cookie, csrf = sign_in(demo_db, "s001")
    return Credentials({"Authorization": f"Bearer {token}"}, cookie, csrf)


@pytest.fixture()
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


def signed_in(client: TestClient[Litestar], who: Credentials) -> TestClient[Litestar]:
    """The client with the bearer token, the session cookie and its CSRF header."""
    client.headers.update({**who.bearer, CSRF_HEADER: who.csrf})
    client.cookies.set(SESSION_COOKIE, who.cookie)
    return client
