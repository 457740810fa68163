"""Programs that start together on a new PostgreSQL database migrate it once, none dies.

Servers and workers each migrate on start; without `clinic.migrate.migration_lock` two of them
both create the tables and one fails (a duplicate key in PostgreSQL's catalogue)."""

from __future__ import annotations

import threading
import uuid

import pytest

from clinic.db import open_database
from clinic.migrate import current, head
from tests.conftest import _pg_drop, _pg_url


@pytest.mark.usefixtures("postgres_available")
def test_four_programs_starting_together_on_a_new_database_all_start() -> None:
    name = f"rota_test_lock_{uuid.uuid4().hex[:10]}"
    from sqlalchemy import create_engine, text

    admin = create_engine(_pg_url("test"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def start_program() -> None:
        start.wait()
        try:
            open_database(_pg_url(name)).dispose()
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    try:
        programs = [threading.Thread(target=start_program) for _ in range(4)]
        for program in programs:
            program.start()
        for program in programs:
            program.join(timeout=300)
        assert failures == []
        db = open_database(_pg_url(name), migrate=False)
        assert current(db.engine) == head()
        db.dispose()
    finally:
        _pg_drop(name)
