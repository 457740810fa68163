"""Migration 0014 (FHIR import links and sync cursors) on SQLite and PostgreSQL: the tables come
and go, and one server resource links to one Rota record only."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from assistant.usecases import exchange
from clinic.db import Database
from clinic.fhir_models import FhirLink
from clinic.migrate import alembic_config, upgrade
from clinic.timeutil import now_utc

SERVER = "https://ehr.example/fhir"


def test_the_tables_come_and_go_and_a_remote_resource_links_once(any_db: Database) -> None:
    engine = any_db.engine
    assert {"fhir_link", "fhir_cursor"} <= set(inspect(engine).get_table_names())
    remote = exchange.Remote(SERVER, "Appointment", "ehr-1", "3", "2026-11-30T12:00:00Z")
    exchange._save_link(any_db, remote, "a1", "d1", deleted=False)
    exchange._save_link(any_db, remote, "a1", "d2", deleted=False)  # the same link, updated
    assert exchange.link_of(any_db, SERVER, "Appointment", "ehr-1") == {
        "rota_id": "a1", "version_id": "3", "last_updated": "2026-11-30T12:00:00Z",
        "deleted": False,
    }  # fmt: skip
    with pytest.raises(IntegrityError), any_db.session() as session:
        session.add(
            FhirLink(server=SERVER, resource_type="Appointment", fhir_id="ehr-1", rota_id="a9",
                     synced_at=now_utc())
        )  # fmt: skip
    exchange.save_cursor(any_db, SERVER, "Appointment", seen="2026-11-30T12:00:00Z", next_url=None)
    assert exchange.cursor(any_db, SERVER, "Appointment").last_updated == "2026-11-30T12:00:00Z"

    command.downgrade(alembic_config(engine), "0013")
    assert not {"fhir_link", "fhir_cursor"} & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert {"fhir_link", "fhir_cursor"} <= set(inspect(engine).get_table_names())
