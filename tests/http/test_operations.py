"""What an operator's tools see: /health, /ready (the database and its migration), /metrics
(Prometheus, never a path or a patient), and one JSON log line per request with a request id
and never a patient identifier."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, text

from assistant.dialogue import Dialogue
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.migrate import head
from clinic.models import Patient
from clinic.tokens import create_token
from integrations.http.app import create_app
from integrations.log_policy import JsonLines, log_format
from tests.security.test_log_scan import Needle, _word, leaks, roster_needles

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=NY)
DIRECTOR = "s001"


@pytest.fixture()
def client(demo_db: Database) -> Iterator[TestClient]:
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    with TestClient(app) as test_client:
        yield test_client


def bearer(db: Database, staff: str) -> dict[str, str]:
    with db.session() as session:
        return {"Authorization": f"Bearer {create_token(session, staff)}"}


def metric(body: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    for line in body.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        sample, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample))
        if sample.split("{")[0] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_health_answers_without_the_database_and_ready_says_why_not() -> None:
    # A server that does not exist: liveness is fine, readiness is not, and says so plainly
    # (no host, port or driver words for an unauthenticated caller).
    gone = Database("postgresql+psycopg://nobody@127.0.0.1:9/rota?connect_timeout=2")
    with TestClient(create_app(gone)) as client:
        assert client.get("/health").json() == {"status": "ok"}
        response = client.get("/ready")
    assert response.status_code == 503
    answer = response.json()
    assert answer["status"] == "not ready" and answer["schema"] == "unreachable"
    assert answer["reason"] == "the database does not answer (see the server log)"
    assert "127.0.0.1" not in response.text and "nobody" not in response.text
    gone.dispose()


def test_ready_checks_the_migration(client: TestClient, demo_db: Database) -> None:
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "schema": "current",
        "needs": head(),
        "migration": head(),
        "reason": None,
        "network_migration": None,
        "network_needs": None,
    }
    with demo_db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0018'"))
    behind = client.get("/ready")
    assert behind.status_code == 503
    assert behind.json()["reason"] == (
        f"database at migration 0018, this program needs {head()}: run `rota db upgrade`"
    )
    # A newer program's expand step: this one keeps working (expand/contract), so it is ready.
    with demo_db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_newer'"))
    newer = client.get("/ready")
    assert newer.status_code == 200 and newer.json()["schema"] == "newer"
    with demo_db.engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    none = client.get("/ready")
    assert none.status_code == 503 and "no Rota schema" in none.json()["reason"]


def test_metrics_count_by_route_template_never_by_path(
    client: TestClient, demo_db: Database
) -> None:
    headers = bearer(demo_db, DIRECTOR)
    before = client.get("/metrics").text
    body = {
        "patients": ["p0050"],
        "staff": ["s006"],
        "session_type": "case_management",
        "start": "2027-01-05T10:00",
        "reason": "benefits paperwork",
    }
    assert client.post("/api/appointments", json=body, headers=headers).status_code == 201
    assert client.post("/api/appointments", json=body, headers=headers).status_code == 409
    assert client.get("/api/patients/p0050", headers=headers).status_code == 200
    assert client.get("/no/such/place/p0050").status_code == 404
    scraped = client.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    after = scraped.text
    assert metric(after, "rota_bookings_total") == metric(before, "rota_bookings_total") + 1
    taken = metric(after, "rota_booking_conflicts_total", reason="taken")
    assert taken == metric(before, "rota_booking_conflicts_total", reason="taken") + 1
    record = {"route": "/api/patients/{patient_id}", "method": "GET", "status": "200"}
    assert metric(after, "rota_http_request_duration_seconds_count", **record) >= 1
    assert metric(after, "rota_http_request_duration_seconds_count", route="(unmatched)") >= 1
    assert "p0050" not in after and "/no/such" not in after  # ids never become labels
    for gauge in ("rota_outbox_pending", "rota_outbox_oldest_due_age_seconds"):
        assert re.search(rf"^{gauge} \d", after, re.MULTILINE), gauge
    assert re.search(r"^rota_job_lag_seconds \d", after, re.MULTILINE)
    assert 'rota_solver_seconds_count{kind="slots"}' in after or "rota_solver_seconds" in after


def test_a_chat_slot_search_is_solver_time(client: TestClient, demo_db: Database) -> None:
    headers = bearer(demo_db, "s006")
    before = metric(client.get("/metrics").text, "rota_solver_seconds_count", kind="slots")
    answer = client.post(
        "/api/chat", json={"message": "find a slot for Laura Fox this week"}, headers=headers
    )
    assert answer.status_code == 200
    after = metric(client.get("/metrics").text, "rota_solver_seconds_count", kind="slots")
    assert after > before, answer.json()["reply"]


def test_the_metrics_token_when_one_is_set(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROTA_METRICS_TOKEN", "scrape-secret-1234")
    with TestClient(create_app(demo_db)) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        good = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-1234"})
        assert good.status_code == 200 and "rota_bookings_total" in good.text
        document = client.get("/schema/openapi.json").json()
    assert document["paths"]["/metrics"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/ready"]["get"]


def test_request_ids_are_returned_and_only_well_formed_ones_kept(client: TestClient) -> None:
    given = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert client.get("/health", headers={"X-Request-ID": given}).headers["x-request-id"] == given
    spelled = client.get("/health", headers={"X-Request-ID": "Maria Lopez"})
    assert re.fullmatch(r"[0-9a-f]{32}", spelled.headers["x-request-id"])
    assert client.get("/health").headers["x-request-id"] != spelled.headers["x-request-id"]


@pytest.fixture()
def json_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The request log as ROTA_LOG_FORMAT=json writes it."""
    monkeypatch.setenv("ROTA_LOG_FORMAT", "json")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("rota")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_json_request_logs_never_name_a_patient(demo_db: Database, json_log: io.StringIO) -> None:
    with demo_db.read() as session:
        patients = list(session.execute(select(Patient.id, Patient.name).limit(3)))
    needles, _shared = roster_needles(demo_db)
    with demo_db.read() as session:
        needles += [Needle("id", pid, _word(pid)) for pid in session.scalars(select(Patient.id))]
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    director = bearer(demo_db, DIRECTOR)
    case_manager = bearer(demo_db, "s006")
    with TestClient(app) as client:
        for pid, name in patients:
            client.get(f"/api/patients/{pid}", headers=director)
            client.get(f"/api/patients/{pid}/agenda?reason={name}", headers=director)
            said = client.post(
                "/api/chat",
                json={"message": f"find a case management slot for {name}"},
                headers=case_manager,
            )
            assert said.status_code == 200
            turn = {"message": "the first one", "conversation_id": said.json()["conversation_id"]}
            client.post("/api/chat", json=turn, headers=case_manager)
            client.get(f"/patients/{pid}")  # a page, signed out: redirected
        client.get("/health", headers={"X-Request-ID": "deadbeef-0001"})
    lines = json_log.getvalue().splitlines()
    requests = [json.loads(line) for line in lines if '"logger": "rota.requests"' in line]
    assert len(requests) >= 5 * len(patients) + 1
    first = requests[0]
    assert first["route"] == "/api/patients/{patient_id}" and first["method"] == "GET"
    assert first["status"] == 200 and first["staff"] == DIRECTOR and first["ms"] >= 0
    assert re.fullmatch(r"[0-9a-f]{32}", first["request_id"])
    chats = [r for r in requests if r["route"] == "/api/chat"]
    assert chats and all(r["staff"] == "s006" for r in chats)
    assert requests[-1]["request_id"] == "deadbeef-0001"
    assert leaks(lines, needles) == []
    assert not any("?" in r["route"] or "reason" in json.dumps(r) for r in requests)


def test_a_log_format_that_does_not_exist_is_refused() -> None:
    with pytest.raises(InvalidInput, match="ROTA_LOG_FORMAT must be text or json, not 'xml'"):
        log_format({"ROTA_LOG_FORMAT": "xml"})
    assert log_format({}) == "text"
