"""The `network` schema is migrated like a facility's (clinic/network_migrations, its version in
`network.alembic_version`): made on first use, adopted as it is where an older release made it
from the models, safe to run again and from several programs starting at once, and checked by
/ready on a facility's server (PostgreSQL; skipped when unreachable)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, select, text

from assistant.usecases.operations import readiness
from clinic import migrate, network
from clinic.db import open_database
from integrations.cli.main import run
from tests.conftest import _pg_drop, _pg_url

TABLES = {"alembic_version", "facility", "person", "travel", "grant", "transfer"}


@pytest.fixture()
def url(postgres_available: None) -> Iterator[str]:
    name = f"rota_test_net_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_pg_url("test"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield _pg_url(name)
    _pg_drop(name)


def _register(url: str, facility: str) -> None:
    root = open_database(url, facility="", migrate=False)
    with root.session() as session:
        network.register(session, facility, facility.title())
    root.dispose()


def test_a_new_network_is_made_by_its_migration_and_a_second_run_changes_nothing(
    url: str,
) -> None:
    db = open_database(url, facility="north", create=True)
    head = migrate.head(migrate.NETWORK_MIGRATIONS)
    assert network.network_migration(db.engine) == head
    assert set(inspect(db.engine).get_table_names(schema="network")) == TABLES
    _register(url, "north")
    with migrate.migration_lock(db.engine):
        network.ensure_network(db.engine)  # current: nothing to do
    again = open_database(url, facility="north")  # a known facility opens, nothing re-made
    with again.read() as session:
        assert [f.id for f in network.facilities(session)] == ["north"]
    assert network.network_migration(again.engine) == head
    again.dispose()
    db.dispose()


def test_a_network_made_before_its_migration_is_adopted_with_its_rows(url: str) -> None:
    # What an older release's ensure_network left: the tables from the models, no version.
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
        connection.execute(text("CREATE SCHEMA network"))
        network.NetworkBase.metadata.create_all(connection)
        connection.execute(
            network.NetworkFacility.__table__.insert().values(
                id="north", name="North", schema_name="facility_north", created_at=datetime.now(UTC)
            )
        )
        connection.execute(
            network.NetworkTravel.__table__.insert().values(
                first="north", second="south", minutes=25
            )
        )
    engine.dispose()
    assert network.network_migration(create_engine(url)) is None
    db = open_database(url, facility="north")  # a known facility: the migration adopts it
    assert network.network_migration(db.engine) == migrate.head(migrate.NETWORK_MIGRATIONS)
    with db.read() as session:
        assert network.travel_minutes(session, "south", "north") == 25
        assert session.scalar(select(network.NetworkFacility.name)) == "North"
    db.dispose()


def test_programs_starting_together_on_a_new_network_all_start(url: str) -> None:
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def start_program(facility: str) -> None:
        start.wait()
        try:
            open_database(url, facility=facility, create=True).dispose()
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    programs = [threading.Thread(target=start_program, args=(f,)) for f in ("a", "a", "b", "b")]
    for program in programs:
        program.start()
    for program in programs:
        program.join(timeout=300)
    assert failures == []
    db = open_database(url, facility="a", create=True)
    assert network.network_migration(db.engine) == migrate.head(migrate.NETWORK_MIGRATIONS)
    assert migrate.is_current(db.engine, db.schema)
    db.dispose()


def test_ready_checks_the_network_schema_of_a_facilitys_server(url: str) -> None:
    db = open_database(url, facility="north", create=True)
    _register(url, "north")
    found = readiness(db)
    head = migrate.head(migrate.NETWORK_MIGRATIONS)
    assert found.ready and found.schema == "current"
    assert (found.network_migration, found.network_needs) == (head, head)
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM network.alembic_version"))
    missing = readiness(db)
    assert not missing.ready and missing.schema == "none"
    assert missing.reason == (
        "the network schema has no migration yet: run `rota db upgrade --facility north`"
    )
    # A newer program's expand step of the network: this one keeps working.
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO network.alembic_version VALUES ('n9999_newer')"))
    newer = readiness(db)
    assert newer.ready and newer.schema == "newer"
    # And the facility's own schema still counts first.
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE facility_north.alembic_version SET version_num = '0018'"))
    behind = readiness(db)
    assert not behind.ready and behind.reason is not None
    assert behind.reason.startswith("database at migration 0018")
    db.dispose()


def test_db_upgrade_without_a_facility_upgrades_the_network_and_every_facility(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for facility in ("north", "south"):
        open_database(url, facility=facility, create=True).dispose()
        _register(url, facility)
    engine = create_engine(url)
    with engine.begin() as connection:  # as a network made before its migration
        connection.execute(text("DELETE FROM network.alembic_version"))
    monkeypatch.setenv("ROTA_DATABASE_URL", url)
    monkeypatch.delenv("ROTA_FACILITY", raising=False)
    assert run(["db", "upgrade"]) == 0
    assert "network schema and facilities north, south: at the newest" in capsys.readouterr().out
    assert network.network_migration(engine) == migrate.head(migrate.NETWORK_MIGRATIONS)
    engine.dispose()
