"""Shared fixtures: fresh SQLite databases, PostgreSQL schemas, and a loaded demo facility.

PostgreSQL tests use ROTA_TEST_POSTGRES_URL (default: the local server's `test` database), each
test in a schema of its own. Under CI (CI=true) an unreachable server fails the run; elsewhere
those tests are skipped with a one-line reason.

ROTA_TEST_SQLITE=sqlcipher runs every SQLite database of the suite encrypted (SQLCipher, keyed
with TEST_DB_KEY through ROTA_DB_KEY, which the `rota` subprocesses inherit too). Otherwise the
suite's SQLite files are plain, whatever ROTA_DB_KEY the developer's shell carries.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

from clinic.db import Database, open_database
from clinic.encryption import DB_KEY_ENV
from clinic.facility_file import load_facility
from clinic.timeutil import use_clock
from tests.fhir_server import fhir_server  # noqa: F401  (the FHIR test server, as a fixture)
from tests.legacy_demo import generate_demo

DEMO_START = date(2026, 11, 30)  # a Monday; history is the two weeks before (legacy demo)
PG_URL = os.environ.get(
    "ROTA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

TEST_DB_KEY = "rota test key: not a secret"
SQLITE_MODE = os.environ.get("ROTA_TEST_SQLITE", "plain")
if SQLITE_MODE == "sqlcipher":
    os.environ[DB_KEY_ENV] = TEST_DB_KEY
elif SQLITE_MODE == "plain":
    os.environ.pop(DB_KEY_ENV, None)
else:
    raise pytest.UsageError(f"ROTA_TEST_SQLITE is {SQLITE_MODE!r}: use plain or sqlcipher")


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_URL} ({exc.__class__.__name__})"


@pytest.fixture(autouse=True)
def _operator(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The command line acts as the local administrator in tests, as under `make run`
    (integrations/cli/identity.py); tests of the read-only command line unset ROTA_OPERATOR.
    No test reads or writes the real ~/.config/rota."""
    monkeypatch.setenv("ROTA_OPERATOR", "operator")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_reachable()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{problem}; CI must run the PostgreSQL tests")
    pytest.skip(problem)


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'rota.sqlite3'}")
    yield database
    database.dispose()


@pytest.fixture()
def pg_db(postgres_available: None) -> Iterator[Database]:
    """A database of its own per test (created from template0, dropped afterwards)."""
    name = f"rota_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE template0"))
    database = open_database(
        make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    )
    yield database
    database.dispose()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest) -> Database:
    """The same test on both databases."""
    name = "db" if request.param == "sqlite" else "pg_db"
    return request.getfixturevalue(name)


@pytest.fixture(scope="session")
def demo_data() -> dict[str, Any]:
    return generate_demo("s", seed=7, start=DEMO_START)


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory: pytest.TempPathFactory, demo_data: dict[str, Any]) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    database = open_database(f"sqlite:///{path}")
    load_facility(database, demo_data, actor="test")
    database.dispose()  # the last connection to close checkpoints the WAL into the main file
    return path


@pytest.fixture()
def demo_db(tmp_path: Path, _demo_template: Path) -> Iterator[Database]:
    """A fresh copy of a database holding the demo 's' facility (start 2026-11-30)."""
    path = tmp_path / "demo.sqlite3"
    shutil.copy(_demo_template, path)
    for suffix in ("-wal", "-shm"):
        if Path(f"{_demo_template}{suffix}").exists():
            shutil.copy(f"{_demo_template}{suffix}", f"{path}{suffix}")
    database = open_database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture()
def pg_demo_db(pg_db: Database, demo_data: dict[str, Any]) -> Database:
    load_facility(pg_db, demo_data, actor="test")
    return pg_db


@pytest.fixture(params=["sqlite", "postgresql"])
def any_demo_db(request: pytest.FixtureRequest) -> Database:
    return request.getfixturevalue("demo_db" if request.param == "sqlite" else "pg_demo_db")


def pin_clock(moment: datetime) -> Callable[[], Iterator[None]]:
    """An autouse fixture for a module whose tests read "now" against the demo's dates:
    `demo_clock = pin_clock(datetime(2026, 11, 30, 8, tzinfo=NY))` at module level. Without it
    such a test passes or fails with the day the suite happens to run."""

    @pytest.fixture(autouse=True)
    def _pinned() -> Iterator[None]:
        use_clock(lambda: moment)
        yield
        use_clock(None)

    return _pinned


@pytest.fixture()
def set_now() -> Iterator[Callable[[datetime], None]]:
    """Fix what `clinic.timeutil.now_utc` answers (the booking service's "has it started?", the
    REST doors' "today") for one test: `set_now(moment)`; the system clock again afterwards."""
    yield lambda moment: use_clock(lambda: moment)
    use_clock(None)


@dataclass(frozen=True)
class PgNetwork:
    """A network of two demo facilities ('north': demo s seed 7, 'south': seed 8) in one
    PostgreSQL database of its own; the facility files' ids repeat between the two."""

    url: str
    north: Database
    south: Database


def _this_week(data: dict[str, Any]) -> dict[str, Any]:
    """The demo without its history (quicker to load; the network tests look ahead only)."""
    kept = [a for a in data["appointments"] if a["start"] >= DEMO_START.isoformat()]
    return {**data, "appointments": kept}


@pytest.fixture(scope="session")
def pg_network(postgres_available: None) -> Iterator[PgNetwork]:
    name = f"rota_tenancy_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE template0"))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    north = open_database(url, facility="north", create=True)
    load_facility(north, _this_week(generate_demo("s", seed=7, start=DEMO_START)), actor="test")
    south = open_database(url, facility="south", create=True)
    load_facility(south, _this_week(generate_demo("s", seed=8, start=DEMO_START)), actor="test")
    yield PgNetwork(url, north, south)
    north.dispose()
    south.dispose()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()
