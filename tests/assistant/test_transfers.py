"""A patient stepping down from one program of a network to another keeps their authorizations
and court order, is linked back, and the move is in both facilities' audit logs (PostgreSQL;
skipped when unreachable)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from assistant import tenancy
from assistant.usecases import transfers
from clinic import network
from clinic.errors import InvalidInput, PermissionDenied
from clinic.models import AuditEvent, Patient
from clinic.timeutil import use_clock
from integrations.cli.main import run
from tests.conftest import PgNetwork

NOW = datetime(2026, 11, 30, 14, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    use_clock(lambda: NOW)
    yield
    use_clock(None)


@dataclass(frozen=True)
class Sent:
    id: str
    name: str
    case_number: str
    payers: list[tuple[str, int]]


def _court_patient(net: PgNetwork) -> Sent:
    with net.north.read() as session:
        for row in session.scalars(select(Patient).order_by(Patient.id)):
            order = row.court_order
            if order is not None and row.authorizations and row.phase != "discharged":
                payers = sorted((a.payer, a.units) for a in row.authorizations)
                return Sent(row.id, row.name, order.case_number, payers)
    raise AssertionError("the demo has a patient with a court order and an authorization")


def test_a_transfer_keeps_authorizations_and_court_order_and_links_back(
    pg_network: PgNetwork,
) -> None:
    patient = _court_patient(pg_network)
    # The court liaison (s006) approves cancelling the court's sessions here.
    director = tenancy.caller_at(pg_network.north, tenancy.Home("north", "s006"))
    receiving = tenancy.caller_at(pg_network.south, tenancy.Home("south", "s001"))
    done = transfers.transfer(
        pg_network.north,
        pg_network.south,
        director,
        receiving,
        transfers.Transfer(
            patient.id,
            "step down to IOP nearer home",
            level_of_care="2.1",
            override_reason="the court's sessions continue at south",
        ),
    )
    assert done.to_facility == "south" and done.to_patient != ""
    with pg_network.south.read() as session:
        moved = session.get(Patient, done.to_patient)
        assert moved is not None and moved.name == patient.name
        assert moved.level_of_care == "2.1"
        assert (
            moved.court_order is not None and moved.court_order.case_number == patient.case_number
        )
        assert sorted((a.payer, a.units) for a in moved.authorizations) == patient.payers
        came = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "patient.transfer_in")
        ).all()
        assert [e.entity_id for e in came] == [done.to_patient]
        assert came[0].after["from"] == {"facility": "north", "patient": patient.id}
        assert "attended" in came[0].after["history"]
    with pg_network.north.read() as session:
        left = session.get(Patient, patient.id)
        assert left is not None and left.phase == "discharged"
        went = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "patient.transfer_out")
        ).all()
        assert [e.after["to"]["patient"] for e in went] == [done.to_patient]
        link = session.scalars(select(network.NetworkTransfer)).one()
        assert (link.from_patient, link.to_patient) == (patient.id, done.to_patient)
    # Once gone, there is no one to move.
    with pytest.raises(InvalidInput, match="discharged"):
        transfers.transfer(
            pg_network.north,
            pg_network.south,
            director,
            receiving,
            transfers.Transfer(patient.id, "again"),
        )


def test_a_transfer_needs_a_right_at_the_receiving_facility(
    pg_network: PgNetwork,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", pg_network.url)
    monkeypatch.setenv("ROTA_OPERATOR", "s003@north")  # a nurse of north, nothing at south
    code = run(
        ["patient", "transfer", "p0010", "--facility", "north", "--to", "south", "--reason", "x y"]
    )
    assert code == PermissionDenied.exit_code
    assert "works at facility 'north'" in capsys.readouterr().err
    with pg_network.north.read() as session:
        still = session.get(Patient, "p0010")
        assert still is not None and still.phase != "discharged"
