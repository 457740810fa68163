"""Request bodies are limited (1 MiB by default, ROTA_MAX_BODY_BYTES): a larger one is a 413
with a plain message, whether announced by Content-Length or streamed in chunks, on the API,
the web pages and FHIR alike; a body under the limit goes on to the usual checks."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from clinic.db import Database
from clinic.errors import InvalidInput
from integrations.http.app import create_app
from integrations.http.hardening import DEFAULT_MAX_BODY, MAX_BODY_ENV, Hardening
from tests.security.conftest import Credentials, signed_in

MIB = 1024 * 1024


def chat_body(size: int) -> bytes:
    """A well-formed chat message of exactly `size` bytes."""
    skeleton = json.dumps({"message": ""}).encode()
    return json.dumps({"message": "a" * (size - len(skeleton))}).encode()


def test_the_default_is_one_mebibyte() -> None:
    assert DEFAULT_MAX_BODY == MIB
    assert Hardening.from_env({}).max_body_bytes == MIB


def test_a_body_over_the_limit_is_413_in_plain_words(
    client: TestClient[Litestar], director: Credentials
) -> None:
    headers = {**director.bearer, "Content-Type": "application/json"}
    response = client.post("/api/chat", content=chat_body(MIB + 1), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 413
    assert (
        problem["detail"]
        == "the request body is larger than this server accepts (at most 1,048,576 bytes)"
    )
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_body_at_the_limit_goes_on_to_the_usual_checks(
    client: TestClient[Litestar], director: Credentials
) -> None:
    headers = {**director.bearer, "Content-Type": "application/json"}
    response = client.post("/api/appointments", content=b" " * (MIB - 2) + b"{}", headers=headers)
    assert response.status_code == 400  # read whole, then refused for what it says


def test_a_streamed_body_without_content_length_is_cut_off_too(
    client: TestClient[Litestar], director: Credentials
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * (64 * 1024)  # 1.25 MiB in all, never announced

    headers = {**director.bearer, "Content-Type": "application/json"}
    response = client.post("/api/chat", content=chunks(), headers=headers)
    assert response.status_code == 413


def test_an_anonymous_oversized_body_is_refused_unread(client: TestClient[Litestar]) -> None:
    response = client.post("/api/chat", content=chat_body(2 * MIB))
    assert response.status_code == 413  # by its Content-Length, before anything reads it


def test_a_web_page_answers_413_with_its_own_page(
    client: TestClient[Litestar], director: Credentials
) -> None:
    signed_in(client, director)
    form = {"message": "a" * (MIB + 10)}
    response = client.post("/chat", data=form)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "larger than this server accepts" in response.text


def test_fhir_answers_413_as_an_operation_outcome(
    client: TestClient[Litestar], director: Credentials
) -> None:
    headers = {**director.bearer, "Content-Type": "application/fhir+json"}
    response = client.post("/fhir/r4/Appointment", content=b" " * (MIB + 1), headers=headers)
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"


def test_the_limit_comes_from_the_environment(
    demo_db: Database, director: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MAX_BODY_ENV, "2048")
    headers = {**director.bearer, "Content-Type": "application/json"}
    with TestClient(create_app(demo_db)) as client:
        refused = client.post("/api/chat", content=chat_body(2049), headers=headers)
        assert refused.status_code == 413
        assert "at most 2,048 bytes" in refused.json()["detail"]
        small = client.post("/api/chat", content=chat_body(200), headers=headers)
        assert small.status_code == 200, small.text


@pytest.mark.parametrize("raw", ["0", "-5", "1MB", "1.5"])
def test_a_limit_that_is_not_a_number_of_bytes_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match=MAX_BODY_ENV):
        Hardening.from_env({MAX_BODY_ENV: raw})
