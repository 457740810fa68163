"""POST /api/patients/{id}/transfer: the command line's transfer over HTTP, with the same
permissions (discharge here, admit there), audited at both facilities, and each refusal a
problem that says why (PostgreSQL; skipped when unreachable)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from assistant import tenancy
from assistant.usecases import patients
from clinic.db import Database
from clinic.models import AuditEvent, Patient
from clinic.timeutil import use_clock
from clinic.tokens import create_token
from integrations.http.app import create_app
from tests.conftest import PgNetwork, new_pg_network

NOW = datetime(2026, 11, 30, 14, tzinfo=UTC)


@pytest.fixture(scope="module")
def net(postgres_available: None) -> Iterator[PgNetwork]:
    """A network of its own: s001 (the director) of north is linked to south's director."""
    for made in new_pg_network():
        tenancy.link_person(made.north, "director", {"north": "s001", "south": "s001"})
        yield made


@pytest.fixture()
def client(net: PgNetwork) -> Iterator[TestClient]:
    use_clock(lambda: NOW)
    with TestClient(create_app(net.north)) as test_client:
        yield test_client
    use_clock(None)


def _bearer(db: Database, staff: str) -> dict[str, str]:
    with db.session() as session:
        return {"Authorization": f"Bearer {create_token(session, staff)}"}


@dataclass(frozen=True)
class Seen:
    id: str
    name: str
    level_of_care: str | None
    dob: date | None


def _plain_patients(db: Database) -> list[Seen]:
    """Patients in care with no court order (whose sessions ahead need no liaison)."""
    with db.read() as session:
        rows = session.scalars(select(Patient).order_by(Patient.id)).all()
        return [
            Seen(p.id, p.name, p.level_of_care, p.dob)
            for p in rows
            if p.phase != "discharged" and p.court_order is None
        ]


def _actions(db: Database, action: str) -> list[tuple[str | None, str]]:
    """(the record, who acted) of each audit event of `action`."""
    with db.read() as session:
        rows = session.execute(
            select(AuditEvent.entity_id, AuditEvent.actor).where(AuditEvent.action == action)
        )
        return [(row.entity_id, row.actor) for row in rows]


def test_a_director_linked_at_both_transfers_a_patient(net: PgNetwork, client: TestClient) -> None:
    patient = _plain_patients(net.north)[0]
    answer = client.post(
        f"/api/patients/{patient.id}/transfer",
        json={"to": "south", "reason": "step down to IOP nearer home", "level_of_care": "2.1"},
        headers=_bearer(net.north, "s001"),
    )
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert (done["from_facility"], done["from_patient"], done["to_facility"]) == (
        "north",
        patient.id,
        "south",
    )
    with net.south.read() as session:
        arrived = session.get(Patient, done["to_patient"])
        assert arrived is not None and arrived.name == patient.name
        assert arrived.level_of_care == "2.1"
    with net.north.read() as session:
        left = session.get(Patient, patient.id)
        assert left is not None and left.phase == "discharged"
    assert (done["to_patient"], "s001") in _actions(net.south, "patient.transfer_in")
    assert (patient.id, "s001") in _actions(net.north, "patient.transfer_out")
    # Once gone there is no one to move: 422, saying so.
    again = client.post(
        f"/api/patients/{patient.id}/transfer",
        json={"to": "south", "reason": "again"},
        headers=_bearer(net.north, "s001"),
    )
    assert again.status_code == 422 and "discharged" in again.json()["detail"]


def test_a_nurse_of_north_is_refused_and_nothing_moves(net: PgNetwork, client: TestClient) -> None:
    patient = _plain_patients(net.north)[0]
    refused = client.post(
        f"/api/patients/{patient.id}/transfer",
        json={"to": "south", "reason": "step down"},
        headers=_bearer(net.north, "s003"),
    )
    assert refused.status_code == 403
    assert "not at 'south'" in refused.json()["detail"] or "may not" in refused.json()["detail"]
    with net.north.read() as session:
        still = session.get(Patient, patient.id)
        assert still is not None and still.phase != "discharged"


def test_unknown_patient_or_facility_is_404_and_a_bad_destination_422(
    net: PgNetwork, client: TestClient
) -> None:
    bearer = _bearer(net.north, "s001")
    patient = _plain_patients(net.north)[0].id
    cases = [
        ("p9999", {"to": "south", "reason": "x"}, 404, "no patient"),
        (patient, {"to": "east", "reason": "x"}, 404, "no facility 'east'"),
        (patient, {"to": "north", "reason": "x"}, 422, "another facility"),
        (patient, {"to": "East Side", "reason": "x"}, 422, "not a facility id"),
    ]
    for who, body, status, words in cases:
        answer = client.post(f"/api/patients/{who}/transfer", json=body, headers=bearer)
        assert answer.status_code == status, (body, answer.text)
        assert words in answer.json()["detail"], answer.text
    no_reason = client.post(
        f"/api/patients/{patient}/transfer", json={"to": "south"}, headers=bearer
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.text


def test_a_likely_duplicate_at_the_receiving_facility_is_409(
    net: PgNetwork, client: TestClient
) -> None:
    patient = _plain_patients(net.north)[-1]
    record = {"name": patient.name, "level_of_care": patient.level_of_care}
    if patient.dob is not None:
        record["dob"] = patient.dob.isoformat()
    south_director = tenancy.caller_at(net.south, tenancy.Home("south", "s001"))
    patients.admit(net.south, south_director, patients.Admit(record, "walked in at south"))
    answer = client.post(
        f"/api/patients/{patient.id}/transfer",
        json={"to": "south", "reason": "step down"},
        headers=_bearer(net.north, "s001"),
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["existing"]["name"] == patient.name
    with net.north.read() as session:
        still = session.get(Patient, patient.id)
        assert still is not None and still.phase != "discharged"


def test_the_transfer_is_in_the_api_document(client: TestClient) -> None:
    document = client.get("/schema/openapi.json").json()
    operation = document["paths"]["/api/patients/{patient_id}/transfer"]["post"]
    assert {"200", "403", "404", "409", "422"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "to" in str(document["components"]["schemas"]) and body


def _chat(client: TestClient, headers: dict[str, str]) -> Callable[[str], dict[str, Any]]:
    conversation: dict[str, str] = {}

    def says(message: str) -> dict[str, Any]:
        body = {"message": message, **conversation}
        response = client.post("/api/chat", json=body, headers=headers)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        conversation["conversation_id"] = answer["conversation_id"]
        return answer

    return says


def test_in_chat_a_transfer_asks_why_then_for_yes_and_no_leaves_it(
    net: PgNetwork, client: TestClient
) -> None:
    first, second = _plain_patients(net.north)[1:3]
    says = _chat(client, _bearer(net.north, "s001"))
    assert says(f"transfer {first.name} to south")["reply"] == (
        f"Why is {first.name} transferring?"
    )
    south = {f["id"]: f["name"] for f in tenancy.listing(net.north)}["south"]
    asked = says("step down to IOP nearer home")["reply"]
    assert asked.startswith(f"Transfer {first.name} to {south} (south) (step down to IOP nearer")
    assert asked.endswith("Reply 'yes' to transfer.")
    done = says("yes")["reply"]
    assert done.startswith(f"Transferred {first.name} to {south} (south), where their record is ")
    with net.north.read() as session:
        left = session.get(Patient, first.id)
        assert left is not None and left.phase == "discharged"
    assert (first.id, "s001") in _actions(net.north, "patient.transfer_out")
    # "no" leaves the patient where they are; a level of care is a change here, not a move.
    says(f"transfer {second.name} to the south site, family moved")
    assert says("no")["reply"] == "OK, I left it as it was."
    with net.north.read() as session:
        kept = session.get(Patient, second.id)
        assert kept is not None and kept.phase != "discharged"
    level = says(f"transfer {second.name} to IOP")["reply"]
    assert level.startswith(f"Change {second.name}") or "intensive outpatient" in level


def test_in_chat_an_unknown_site_or_a_nurse_is_refused_before_any_yes(
    net: PgNetwork, client: TestClient
) -> None:
    patient = _plain_patients(net.north)[3]
    says = _chat(client, _bearer(net.north, "s001"))
    unknown = says(f"transfer {patient.name} to Bayview, closer to home")["reply"]
    assert "facility 'bayview' in this network (facilities: north (" in unknown
    assert unknown.endswith("Nothing was written.")
    refused = client.post(
        "/api/chat",
        json={"message": f"transfer {patient.name} to south, closer to home"},
        headers=_bearer(net.north, "s003"),
    )
    assert refused.status_code == 200, refused.text
    assert refused.json()["reply"].startswith("Sorry, I can't do that: a nurse may not discharge")
    with net.north.read() as session:
        still = session.get(Patient, patient.id)
        assert still is not None and still.phase != "discharged"


def test_a_network_wide_director_of_south_transfers_from_north(
    net: PgNetwork, client: TestClient
) -> None:
    # Granted at every facility: their south token works at north (named by the header; without
    # it the token's own facility is meant), and south is their home.
    tenancy.grant_network_role(net.north, "south", "s002", "clinical_director", "test")
    patient = _plain_patients(net.north)[4]
    answer = client.post(
        f"/api/patients/{patient.id}/transfer",
        json={"to": "south", "reason": "closer to home"},
        headers={**_bearer(net.south, "s002"), "X-Rota-Facility": "north"},
    )
    assert answer.status_code == 200, answer.text
    assert (patient.id, "s002@south") in _actions(net.north, "patient.transfer_out")
    assert (answer.json()["to_patient"], "s002") in _actions(net.south, "patient.transfer_in")
