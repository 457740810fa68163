"""The FHIR client against the local FHIR test server: conditional create, If-Match updates,
paging, history, errors that say what the server said, timeouts, retries and SMART
backend-services tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from clinic.errors import InvalidInput
from integrations.fhir.client import (
    FhirAuthError,
    FhirClient,
    FhirGone,
    FhirNotFound,
    FhirRejected,
    FhirUnavailable,
    FhirVersionConflict,
    SmartBackendServices,
    identifier_search,
)
from tests.fhir_server import FhirTestServer

SYSTEM = "urn:rota:test:appointment"


def appointment(rota_id: str, status: str = "booked") -> dict:
    return {
        "resourceType": "Appointment",
        "identifier": [{"system": SYSTEM, "value": rota_id}],
        "status": status,
        "start": "2026-12-01T15:00:00Z",
        "end": "2026-12-01T16:00:00Z",
        "participant": [{"actor": {"reference": "Practitioner/s1"}, "status": "accepted"}],
    }


def client_for(server: FhirTestServer, **options) -> FhirClient:
    return FhirClient(server.base_url, retry_wait=0.01, **options)


def test_conditional_create_makes_one_resource_and_update_needs_the_current_etag(
    fhir_server: FhirTestServer,
) -> None:
    with client_for(fhir_server) as fhir:
        first = fhir.create(appointment("a1"), if_none_exist=identifier_search(SYSTEM, "a1"))
        again = fhir.create(appointment("a1"), if_none_exist=identifier_search(SYSTEM, "a1"))
        assert (first.status, again.status) == (201, 200)
        assert first.logical_id == again.logical_id and first.version_id == "1"
        assert len(fhir_server.all("Appointment")) == 1

        moved = {**first.resource, "start": "2026-12-02T15:00:00Z", "end": "2026-12-02T16:00:00Z"}
        updated = fhir.update(moved, if_match=first.etag)
        assert updated.version_id == "2" and updated.etag == 'W/"2"'
        assert fhir_server.requests("PUT")[-1].headers["if-match"] == 'W/"1"'

        with pytest.raises(FhirVersionConflict) as stale:  # someone else's version is newer
            fhir.update({**moved, "status": "cancelled"}, if_match=first.etag)
        assert stale.value.status == 412 and "version" in str(stale.value)
        assert fhir.read("Appointment", first.logical_id).resource["status"] == "booked"


def test_search_follows_next_links_and_history_shows_deletions(fhir_server: FhirTestServer) -> None:
    for i in range(7):
        fhir_server.put({**appointment(f"a{i}"), "id": f"x{i}"})
    fhir_server.remove("Appointment", "x3")
    with client_for(fhir_server) as fhir:
        pages = list(fhir.search_pages("Appointment", {"_count": 2}))
        found = [r["id"] for r in fhir.search("Appointment", {"_count": 2})]
        assert len(pages) == 3 and found == ["x0", "x1", "x2", "x4", "x5", "x6"]
        newest = fhir_server.get("Appointment", "x6")["meta"]["lastUpdated"]
        assert [r["id"] for r in fhir.search("Appointment", {"_lastUpdated": f"ge{newest}"})] == [
            "x6"
        ]
        assert [r["id"] for r in fhir.search("Appointment", {"identifier": f"{SYSTEM}|a5"})] == [
            "x5"
        ]

        history = list(fhir.history("Appointment", count=3))
        assert len(history) == 8 and history[0]["request"]["method"] == "DELETE"
        with pytest.raises(FhirGone):
            fhir.read("Appointment", "x3")
        with pytest.raises(FhirNotFound):
            fhir.read("Appointment", "nope")


def test_errors_carry_the_operation_outcome_and_reads_are_retried(
    fhir_server: FhirTestServer,
) -> None:
    fhir_server.put({**appointment("a1"), "id": "x1"})
    with client_for(fhir_server) as fhir:
        fhir_server.fail_next(2)
        assert fhir.read("Appointment", "x1").resource["id"] == "x1"  # third try answers

        fhir_server.fail_next(1, 500)
        with pytest.raises(FhirUnavailable) as failed:  # writes are not retried here
            fhir.create(appointment("a2"))
        assert failed.value.retryable and "injected fault (500)" in str(failed.value)
        assert len(fhir_server.all("Appointment")) == 1

        with pytest.raises(FhirRejected) as rejected:
            fhir.update({**appointment("a1"), "id": "other"} | {"id": "x2"}, if_match='W/"1"')
        assert not rejected.value.retryable and rejected.value.status == 412

        with pytest.raises(FhirRejected) as unknown:
            list(fhir.search("Appointment", {"practitioner": "s1"}))
        assert "unsupported search parameter(s): practitioner" in str(unknown.value)


def test_a_slow_server_is_a_timeout_not_a_hang(fhir_server: FhirTestServer) -> None:
    fhir_server.slow_next(1, 1.0)
    with (
        client_for(fhir_server, timeout=0.2, read_retries=0) as fhir,
        pytest.raises(FhirUnavailable, match=r"no answer within 0.2 s"),
    ):
        fhir.capabilities()


def test_a_bearer_token_from_the_environment(tmp_path: Path) -> None:
    with FhirTestServer(token="s3cret") as server:
        with (
            FhirClient.from_env({"ROTA_FHIR_BASE_URL": server.base_url}) as anonymous,
            pytest.raises(FhirAuthError, match="401"),
        ):
            anonymous.capabilities()
        env = {"ROTA_FHIR_BASE_URL": server.base_url, "ROTA_FHIR_TOKEN": "s3cret"}
        with FhirClient.from_env(env) as fhir:
            assert fhir.capabilities()["fhirVersion"] == "4.0.1"
    with pytest.raises(InvalidInput, match="ROTA_FHIR_BASE_URL"):
        FhirClient.from_env({})
    with pytest.raises(InvalidInput, match="ROTA_FHIR_PRIVATE_KEY_FILE"):
        FhirClient.from_env(
            {
                "ROTA_FHIR_BASE_URL": "https://ehr.example",
                "ROTA_FHIR_CLIENT_ID": "rota",
                "ROTA_FHIR_TOKEN_URL": "https://ehr.example/token",
            }
        )


def test_smart_backend_services_token_is_fetched_once_and_renewed_when_expired(
    tmp_path: Path,
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "key.pem").write_bytes(private)
    with FhirTestServer(smart_public_key=public, token_lifetime=3600) as server:
        env = {
            "ROTA_FHIR_BASE_URL": server.base_url,
            "ROTA_FHIR_CLIENT_ID": "rota",
            "ROTA_FHIR_TOKEN_URL": server.token_url,
            "ROTA_FHIR_PRIVATE_KEY_FILE": str(tmp_path / "key.pem"),
        }
        with FhirClient.from_env(env) as fhir:
            fhir.capabilities()
            fhir.capabilities()
            assert len(server.tokens_issued) == 1  # cached until it expires
            server.tokens_issued.clear()  # the server forgets it (revoked): one fresh token
            fhir.capabilities()
            assert len(server.tokens_issued) == 1
        wrong = SmartBackendServices("someone-else", server.token_url, private)
        with (
            FhirClient(server.base_url, auth=wrong) as fhir,
            pytest.raises(FhirAuthError, match="refused the client credentials"),
        ):
            fhir.capabilities()
