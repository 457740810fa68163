"""A network of facilities on one PostgreSQL database: each facility in its own schema, and a
director of one facility refused another's patients through every door unless granted
network-wide (PostgreSQL; skipped with the reason when it is unreachable)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from assistant import callers, tenancy
from assistant.dialogue import Dialogue
from assistant.slack_store import Job
from clinic.db import Database, open_database
from clinic.errors import InvalidInput, NotFound
from clinic.models import Patient, Staff
from clinic.tokens import create_token
from integrations.cli.main import run
from integrations.http.app import create_app
from integrations.slack import privacy
from integrations.slack.answer import Answerer
from tests.conftest import PgNetwork


def _token(db: Database, staff: str) -> str:
    with db.session() as session:
        return create_token(session, staff)


def _name(db: Database, patient: str) -> str:
    with db.read() as session:
        return str(session.scalar(select(Patient.name).where(Patient.id == patient)))


@pytest.fixture()
def client(pg_network: PgNetwork) -> Iterator[TestClient]:
    with TestClient(create_app(pg_network.north)) as test_client:
        yield test_client


def test_each_facility_reads_only_its_own_schema(pg_network: PgNetwork) -> None:
    north, south = _name(pg_network.north, "p0001"), _name(pg_network.south, "p0001")
    assert north != south  # the same id, two patients: one per facility
    assert [f["id"] for f in tenancy.listing(pg_network.north)] == ["north", "south"]
    with pytest.raises(NotFound, match=r"no facility 'east'.*north, south"):
        open_database(pg_network.url, facility="east")
    with pytest.raises(InvalidInput, match=r"not a facility id"):
        open_database(pg_network.url, facility="East Side; drop")


def test_sqlite_refuses_a_facility_in_plain_words(tmp_path: object) -> None:
    with pytest.raises(InvalidInput, match="needs PostgreSQL"):
        open_database(f"sqlite:///{tmp_path}/one.sqlite3", facility="north")


def test_a_director_is_refused_another_facilitys_patient_over_http_and_chat(
    pg_network: PgNetwork, client: TestClient
) -> None:
    bearer = {"Authorization": f"Bearer {_token(pg_network.north, 's001')}"}
    # At home, no header needed.
    own = client.get("/api/patients/p0001", headers=bearer)
    assert own.status_code == 200 and own.json()["patient"]["name"] == _name(
        pg_network.north, "p0001"
    )
    # Another facility's patient: 403, with words saying why; nothing of theirs in the answer.
    south = {**bearer, "X-Rota-Facility": "south"}
    refused = client.get("/api/patients/p0001", headers=south)
    assert refused.status_code == 403
    assert "works at facility 'north'" in refused.json()["detail"]
    assert _name(pg_network.south, "p0001") not in refused.text
    chat = client.post("/api/chat", json={"message": "open p0001's record"}, headers=south)
    assert chat.status_code == 403
    # A facility the network does not have is 404.
    missing = client.get("/api/patients/p0001", headers={**bearer, "X-Rota-Facility": "east"})
    assert missing.status_code == 404


def test_a_south_token_needs_no_header_on_a_north_server(
    pg_network: PgNetwork, client: TestClient
) -> None:
    bearer = {"Authorization": f"Bearer {_token(pg_network.south, 's001')}"}
    answer = client.get("/api/patients/p0002", headers=bearer)
    assert answer.status_code == 200
    assert answer.json()["patient"]["name"] == _name(pg_network.south, "p0002")


def test_a_network_wide_grant_opens_every_facility(
    pg_network: PgNetwork, client: TestClient
) -> None:
    # s002 (intake coordinator at north) is made a director of the whole network.
    tenancy.grant_network_role(pg_network.north, "north", "s002", "director", "test")
    bearer = {"Authorization": f"Bearer {_token(pg_network.north, 's002')}"}
    answer = client.get("/api/patients/p0003", headers={**bearer, "X-Rota-Facility": "south"})
    assert answer.status_code == 200
    assert answer.json()["patient"]["name"] == _name(pg_network.south, "p0003")


def test_a_person_linked_at_two_sites_acts_as_their_record_there(
    pg_network: PgNetwork, client: TestClient
) -> None:
    # c003 at north is also c004 at south: at south they are c004, with c004's caseload.
    tenancy.link_person(pg_network.north, "amanda", {"north": "c003", "south": "c004"})
    home = tenancy.Home("north", "c003")
    assert tenancy.caller_at(pg_network.south, home).staff_id == "c004"
    bearer = {"Authorization": f"Bearer {_token(pg_network.north, 'c003')}"}
    mine = client.get("/api/patients", headers={**bearer, "X-Rota-Facility": "south"})
    assert mine.status_code == 200


def test_the_command_line_refuses_another_facility_too(
    pg_network: PgNetwork,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", pg_network.url)
    monkeypatch.setenv("ROTA_OPERATOR", "s001@north")
    assert run(["patient", "show", "p0001", "--facility", "north", "--json"]) == 0
    assert _name(pg_network.north, "p0001") in capsys.readouterr().out
    assert run(["patient", "show", "p0001", "--facility", "south", "--json"]) == 3
    err = capsys.readouterr()
    assert "works at facility 'north'" in err.err
    assert _name(pg_network.south, "p0001") not in err.out + err.err
    assert run(["agenda", "--facility", "nowhere"]) == 4
    assert "no facility 'nowhere'" in capsys.readouterr().err


def test_slack_answers_another_facilitys_director_with_nothing_of_it(
    pg_network: PgNetwork,
) -> None:
    # s005 of north is linked to Slack at north; south's Slack app does not serve them.
    with pg_network.north.session() as session:
        staff = session.get(Staff, "s005")
        assert staff is not None
        staff.slack_user_id = "UNORTHDIR"
    assert callers.for_slack_user(pg_network.north, "UNORTHDIR") is not None
    assert callers.for_slack_user(pg_network.south, "UNORTHDIR") is None
    job = Job("k1", "message", "UNORTHDIR", "D123", {"text": "open p0001's record"}, 0)
    out = Answerer(pg_network.south, Dialogue(pg_network.south)).answer(job)
    text = " ".join(str(m.payload) for m in out)
    assert privacy.UNKNOWN_USER in text
    assert _name(pg_network.south, "p0001") not in text
    # Granted network-wide, they are a director at south too.
    tenancy.grant_network_role(pg_network.north, "north", "s005", "director", "test")
    assert callers.for_slack_user(pg_network.south, "UNORTHDIR") is not None
