"""Attack and accounting tests: the demo facility seen through every door, the command line
that answers "who saw this patient?", and the app with a director's bearer token and web
session (headers, limits, transport)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from clinic.db import Database
from clinic.tokens import create_token
from integrations.cli.main import run
from integrations.http.app import create_app
from integrations.web.session import CSRF_HEADER, SESSION_COOKIE
from tests.slack.conftest import fake_slack, slack, slack_env  # noqa: F401  (the Slack door)
from tests.web.browser import sign_in

AccessRows = Callable[..., list[dict[str, Any]]]


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
    return create_app(demo_db)


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
