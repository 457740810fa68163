"""The security tests' app: the demo facility, with a director's bearer token and web session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from clinic.db import Database
from clinic.tokens import create_token
from integrations.http.app import create_app
from integrations.web.session import CSRF_HEADER, SESSION_COOKIE
from tests.web.browser import sign_in


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
