"""Authentication that ends (issue 19, item 2), attacked as an attacker would: expired, revoked
and rotated tokens, scopes that narrow roles, guessing until locked out, and what the logs keep.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from assistant.authentication import AuthPolicy, Throttle
from assistant.usecases import web_sign_in
from clinic.audit import iter_events
from clinic.auth_models import AuthFailure, AuthLockout
from clinic.db import Database
from clinic.models import Proposal, Staff
from clinic.tokens import create_token, revoke_tokens, rotate_tokens
from integrations.http.app import create_app

DIRECTOR, THERAPIST = "s001", "c004"  # the clinical director; a therapist
START = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
LOCKOUT = AuthPolicy.from_env()
GET_API = "/api/appointments?day=2026-11-30"
GET_FHIR = "/fhir/r4/Practitioner"


class FromAddress:
    """The app as seen from one network address (the test client always says 'testclient')."""

    def __init__(self, app: Litestar, host: str) -> None:
        self._app, self._host = app, host

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "client": (self._host, 50000)}
        await self._app(scope, receive, send)


@pytest.fixture()
def clock(set_now: Callable[[datetime], None]) -> Callable[[datetime], None]:
    set_now(START)
    return set_now


@pytest.fixture()
def app(demo_db: Database, clock: Any) -> Litestar:
    return create_app(demo_db)


@pytest.fixture()
def client_at(app: Litestar) -> Iterator[Callable[[str], TestClient[Any]]]:
    opened: list[TestClient[Any]] = []

    def make(host: str) -> TestClient[Any]:
        client = TestClient(FromAddress(app, host))  # type: ignore[arg-type]
        opened.append(client.__enter__())
        return client

    yield make
    for client in reversed(opened):  # last in, first out: each holds its own event loop
        client.__exit__(None, None, None)


def token(db: Database, staff: str, **kwargs: Any) -> str:
    with db.session() as session:
        return create_token(session, staff, **kwargs)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def name_of(db: Database, staff: str) -> str:
    with db.read() as session:
        found = session.get(Staff, staff)
        assert found is not None
        return found.name


def refused_everywhere(client: TestClient[Any], secret: str, db: Database) -> list[str]:
    """The 401 details of the HTTP API, FHIR and the web sign-in form for one token."""
    api = client.get(GET_API, headers=bearer(secret))
    fhir = client.get(GET_FHIR, headers=bearer(secret))
    web = client.post("/signin", data={"token": secret}, follow_redirects=False)
    assert (api.status_code, fhir.status_code, web.status_code) == (401, 401, 401)
    assert fhir.json()["resourceType"] == "OperationOutcome"
    assert "rota_session" not in web.headers.get("set-cookie", "")
    said = [api.json()["detail"], fhir.text, web.text]
    for text in said:  # never whose token it was
        assert DIRECTOR not in text and name_of(db, DIRECTOR) not in text
    return said


def test_an_expired_token_is_refused_everywhere_and_says_to_rotate(
    demo_db: Database, client_at: Callable[[str], TestClient[Any]], clock: Any
) -> None:
    secret = token(demo_db, DIRECTOR, days=1)
    client = client_at("10.0.0.1")
    assert client.get(GET_API, headers=bearer(secret)).status_code == 200
    clock(START + timedelta(days=1, seconds=1))
    for said in refused_everywhere(client, secret, demo_db):
        assert "expired" in said and "rota token rotate" in said


def test_a_revoked_token_is_refused_everywhere(
    demo_db: Database, client_at: Callable[[str], TestClient[Any]]
) -> None:
    secret = token(demo_db, DIRECTOR)
    client = client_at("10.0.0.2")
    assert client.get(GET_FHIR, headers=bearer(secret)).status_code == 200
    with demo_db.session() as session:
        assert revoke_tokens(session, DIRECTOR) == 1
    for said in refused_everywhere(client, secret, demo_db):
        assert "revoked" in said


def test_rotation_retires_the_old_token_and_the_new_one_works(
    demo_db: Database, client_at: Callable[[str], TestClient[Any]]
) -> None:
    old = token(demo_db, DIRECTOR, scope="read", label="laptop")
    with demo_db.session() as session:
        rotated = rotate_tokens(session, staff_id=DIRECTOR, actor="operator")
    client = client_at("10.0.0.3")
    assert client.get(GET_API, headers=bearer(old)).status_code == 401
    assert client.get(GET_API, headers=bearer(rotated.token)).status_code == 200
    with demo_db.read() as session:
        [after] = [
            str(e.after) for e in iter_events(session, DIRECTOR) if e.action == "token.rotate"
        ]
    assert rotated.token not in after and old not in after


BOOKING = {
    "patients": ["p0050"],
    "staff": ["s006"],
    "session_type": "case_management",
    "start": "2027-01-05T10:00",
    "reason": "benefits paperwork",
}


def test_a_read_token_reads_but_cannot_write_even_for_a_director(
    demo_db: Database, client_at: Callable[[str], TestClient[Any]]
) -> None:
    client = client_at("10.0.0.4")
    reader = bearer(token(demo_db, DIRECTOR, scope="read"))
    assert client.get(GET_API, headers=reader).status_code == 200
    refused = client.post("/api/appointments", json=BOOKING, headers=reader)
    assert refused.status_code == 403 and "read scope" in refused.json()["detail"]
    # Its chat answers, but cannot book: the use cases check the scope with the role.
    asked = client.post(
        "/api/chat", json={"message": "find a slot for Laura Fox tomorrow"}, headers=reader
    )
    assert asked.status_code == 200
    assert "read-only token" in asked.json()["reply"] and not asked.json()["options"]
    booker = bearer(token(demo_db, DIRECTOR, scope="booking"))
    booked = client.post("/api/appointments", json=BOOKING, headers=booker)
    assert booked.status_code == 201, booked.text


def test_a_booking_token_cannot_approve_and_an_admin_token_cannot_widen_a_role(
    demo_db: Database, client_at: Callable[[str], TestClient[Any]]
) -> None:
    client = client_at("10.0.0.5")
    sick = client.post(
        "/api/chat",
        json={"message": "I'm out sick today"},
        headers=bearer(token(demo_db, THERAPIST)),
    )
    assert sick.status_code == 200 and "for approval" in sick.json()["reply"]
    with demo_db.read() as session:
        proposal = session.scalars(select(Proposal.id).where(Proposal.status == "pending")).first()
    apply = f"/api/proposals/{proposal}/apply"
    booking = client.post(apply, headers=bearer(token(demo_db, DIRECTOR, scope="booking")))
    assert booking.status_code == 403 and "booking scope" in booking.json()["detail"]
    therapist = client.post(apply, headers=bearer(token(demo_db, THERAPIST, scope="admin")))
    assert therapist.status_code == 403 and "scope" not in therapist.json()["detail"]
    admin = client.post(apply, headers=bearer(token(demo_db, DIRECTOR, scope="admin")))
    assert admin.status_code == 200, admin.text


def test_fifty_wrong_tokens_lock_the_client_out_across_processes_and_nobody_else(
    demo_db: Database,
    app: Litestar,
    client_at: Callable[[str], TestClient[Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    good = token(demo_db, DIRECTOR)
    attacker = client_at("203.0.113.9")
    guesses = [f"rota_{secrets.token_urlsafe(32)}" for _ in range(50)]
    answers = [attacker.get(GET_API, headers=bearer(g)).status_code for g in guesses]
    assert answers[: LOCKOUT.lockout.max_failures] == [401] * LOCKOUT.lockout.max_failures
    assert set(answers[LOCKOUT.lockout.max_failures :]) == {429}
    held = attacker.get(GET_API, headers=bearer(good))
    assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0
    # Another server process (its own memory, the same database) still refuses that client...
    other_process = create_app(demo_db, throttle=Throttle())
    with TestClient(FromAddress(other_process, "203.0.113.9")) as elsewhere:  # type: ignore[arg-type]
        again = elsewhere.get(GET_FHIR, headers=bearer(good))
        assert again.status_code == 429 and int(again.headers["Retry-After"]) > 60
        signin = elsewhere.post("/signin", data={"token": good}, follow_redirects=False)
        assert signin.status_code == 429 and "try again" in signin.text
    # ...while anyone else signs in.
    assert client_at("198.51.100.7").get(GET_API, headers=bearer(good)).status_code == 200
    with demo_db.read() as session:
        lock = session.get(AuthLockout, "203.0.113.9")
        assert lock is not None and lock.failures >= LOCKOUT.lockout.max_failures
        recorded = list(session.scalars(select(AuthFailure)))
        seen = {(f.client, f.door, f.reason) for f in recorded}
        kept_records = [str(vars(f)) for f in recorded]
    assert seen == {("203.0.113.9", "http", "unknown")}
    # Every failure was logged; no token, wrong or right, is in any log line or record.
    lines = [r.getMessage() for r in caplog.records if r.name == "rota.auth"]
    assert len(lines) == len(recorded) >= LOCKOUT.lockout.max_failures
    with demo_db.read() as session:
        kept = " ".join(
            [*(r.getMessage() for r in caplog.records), *kept_records]
            + [str(e.after) + str(e.before) for e in iter_events(session)]
        )
    for secret in [good, *guesses]:
        assert secret not in kept and secret.removeprefix("rota_")[:12] not in kept


def test_guessing_around_one_token_prefix_is_slowed_from_any_address(
    demo_db: Database, client_at: Callable[[str], TestClient[Any]]
) -> None:
    guesses = [f"rota_SAME{secrets.token_urlsafe(30)}" for _ in range(8)]
    answers = [
        client_at(f"10.1.0.{n}").get(GET_API, headers=bearer(g)).status_code
        for n, g in enumerate(guesses)
    ]
    allowed = int(LOCKOUT.prefix_rate.split("/")[0])
    assert answers == [401] * allowed + [429] * (len(guesses) - allowed)


def test_wrong_sign_in_links_and_pasted_tokens_count_towards_the_lockout(
    demo_db: Database, client_at: Callable[[str], TestClient[Any]], monkeypatch: Any
) -> None:
    monkeypatch.setenv("ROTA_AUTH_MAX_FAILURES", "3")
    monkeypatch.setenv("ROTA_AUTH_CLIENT_RATE", "100/minute")  # the database lockout, not memory
    client = TestClient(FromAddress(create_app(demo_db), "192.0.2.8"))  # type: ignore[arg-type]
    with client:
        link = client.post("/signin/link", data={"token": "rotal_forged"})
        assert link.status_code == 400
        pasted = client.post("/signin", data={"token": "rota_forged"}, follow_redirects=False)
        assert pasted.status_code == 401
        client.post("/signin/link", data={"token": "rotal_forged2"})
        real = web_sign_in.create_link(demo_db, DIRECTOR)
        locked = client.post("/signin/link", data={"token": real}, follow_redirects=False)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    with demo_db.read() as session:
        doors = [(f.door, f.reason) for f in session.scalars(select(AuthFailure))]
    assert doors == [("web", "link"), ("web", "unknown"), ("web", "link")]
