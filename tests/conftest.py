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
from ortools.sat.python import cp_model
from sqlalchemy import create_engine, make_url, text

from clinic.db import Database, open_database
from clinic.encryption import DB_KEY_ENV
from clinic.facility_file import load_facility
from clinic.timeutil import use_clock
from solver.settings import SolverSettings
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a slow test first (the order stays otherwise): `make test` hands whole files
    to its workers in this order, and a long file handed out last keeps one worker busy while
    the other has nothing left to do."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


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


def _copy_sqlite(template: Path, path: Path) -> None:
    shutil.copy(template, path)
    for suffix in ("-wal", "-shm"):
        if Path(f"{template}{suffix}").exists():
            shutil.copy(f"{template}{suffix}", f"{path}{suffix}")


@pytest.fixture(scope="session")
def _empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database at the newest schema, migrated once per test process: a test's own
    database is a copy (every migration again per test cost the suite about a minute)."""
    path = tmp_path_factory.mktemp("empty") / "rota.sqlite3"
    open_database(f"sqlite:///{path}").dispose()  # the last to close checkpoints the WAL
    return path


@pytest.fixture()
def db(tmp_path: Path, _empty_template: Path) -> Iterator[Database]:
    path = tmp_path / "rota.sqlite3"
    _copy_sqlite(_empty_template, path)
    database = open_database(f"sqlite:///{path}")
    yield database
    database.dispose()


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _pg_create(name: str, template: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    admin.dispose()


def _pg_drop(name: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="session")
def _pg_empty_template(postgres_available: None) -> Iterator[str]:
    """A PostgreSQL database at the newest schema, migrated once per test process and copied
    per test (CREATE DATABASE ... TEMPLATE); dropped at the end."""
    name = f"rota_tpl_{uuid.uuid4().hex[:10]}"
    _pg_create(name, "template0")
    try:
        open_database(_pg_url(name)).dispose()  # no connection may stay: it is copied
        yield name
    finally:
        _pg_drop(name)


@pytest.fixture(scope="session")
def _pg_demo_template(_pg_empty_template: str, demo_data: dict[str, Any]) -> Iterator[str]:
    """The demo 's' facility loaded once per test process into a PostgreSQL template."""
    name = f"rota_tpl_{uuid.uuid4().hex[:10]}"
    _pg_create(name, _pg_empty_template)
    try:
        database = open_database(_pg_url(name))
        load_facility(database, demo_data, actor="test")
        database.dispose()
        yield name
    finally:
        _pg_drop(name)


def _pg_copy(template: str) -> Iterator[Database]:
    name = f"rota_test_{uuid.uuid4().hex[:10]}"
    _pg_create(name, template)
    database = open_database(_pg_url(name))
    yield database
    database.dispose()
    _pg_drop(name)


@pytest.fixture()
def pg_db(_pg_empty_template: str) -> Iterator[Database]:
    """A database of its own per test (a copy of the migrated template, dropped afterwards)."""
    yield from _pg_copy(_pg_empty_template)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest) -> Database:
    """The same test on both databases."""
    name = "db" if request.param == "sqlite" else "pg_db"
    return request.getfixturevalue(name)


@pytest.fixture(scope="session")
def demo_data() -> dict[str, Any]:
    return generate_demo("s", seed=7, start=DEMO_START)


@pytest.fixture(scope="session")
def _demo_template(
    tmp_path_factory: pytest.TempPathFactory, demo_data: dict[str, Any], _empty_template: Path
) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    _copy_sqlite(_empty_template, path)
    database = open_database(f"sqlite:///{path}")
    load_facility(database, demo_data, actor="test")
    database.dispose()  # the last connection to close checkpoints the WAL into the main file
    return path


@pytest.fixture()
def demo_db(tmp_path: Path, _demo_template: Path) -> Iterator[Database]:
    """A fresh copy of a database holding the demo 's' facility (start 2026-11-30)."""
    path = tmp_path / "demo.sqlite3"
    _copy_sqlite(_demo_template, path)
    database = open_database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture()
def pg_demo_db(_pg_demo_template: str) -> Iterator[Database]:
    """demo_db on PostgreSQL: a copy of the loaded template, dropped afterwards."""
    yield from _pg_copy(_pg_demo_template)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_demo_db(request: pytest.FixtureRequest) -> Database:
    return request.getfixturevalue("demo_db" if request.param == "sqlite" else "pg_demo_db")


CP_SAT_SECONDS = 2.0


@pytest.fixture()
def brief_cp_sat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each CP-SAT solve of a plan or repair stops after CP_SAT_SECONDS, whatever the plan's
    whole limit leaves it. For tests that judge a plan valid and bookable, never its quality:
    the whole limit stays generous, so a loaded machine still reads the facility and makes the
    greedy start (solver/deadline.py), while an idle one stops spending the rest of it on
    improvements no assertion looks at."""
    apply = SolverSettings.apply

    def brief(
        self: SolverSettings, solver: cp_model.CpSolver, seconds: float | None = None
    ) -> None:
        apply(self, solver, min(seconds or self.time_limit, CP_SAT_SECONDS))

    monkeypatch.setattr(SolverSettings, "apply", brief)


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
    yield from new_pg_network()


def new_pg_network() -> Iterator[PgNetwork]:
    """A network of its own (for a fixture whose tests change what others read: grants,
    links); dropped after."""
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
