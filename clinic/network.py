"""A network of facilities in one PostgreSQL database: one schema per facility, one `network`.

Each facility's tables live in their own schema (`facility_<id>`), and a `Database` opened for
a facility sets the connection's search_path to it, so every query (and every migration's raw
SQL) reads and writes that facility only, unchanged: the facility file's ids (`s001`, `p0002`)
repeat between facilities without composite keys. The `network` schema holds what spans
facilities: which facilities there are, the people who work at several (their staff id at
each), travel minutes between sites, network-wide grants, and patient transfers.

A database without the `network` schema is one facility, exactly as before (public schema or
the embedded SQLite file). The network is PostgreSQL only: the embedded SQLite file holds one
facility, and `--facility` on it is refused in plain words.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Engine,
    Integer,
    MetaData,
    String,
    Text,
    column,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.sql.expression import TableClause

from clinic import migrate
from clinic.errors import InvalidInput, NotFound
from clinic.models import UTCDateTime

FACILITY_ENV = "ROTA_FACILITY"
NETWORK_SCHEMA = "network"
SCHEMA_PREFIX = "facility_"
_FACILITY_ID = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
SQLITE_REFUSAL = (
    "a network of facilities needs PostgreSQL: the embedded SQLite database holds one "
    "facility. Unset ROTA_FACILITY (and drop --facility), or set ROTA_DATABASE_URL to "
    "postgresql+psycopg://USER@HOST/DB"
)


def now_utc() -> datetime:
    return datetime.now(UTC)


def facility_in_force(facility: str | None = None) -> str | None:
    """The facility asked for: the argument, else ROTA_FACILITY, else None (the one facility)."""
    chosen = facility if facility is not None else os.environ.get(FACILITY_ENV, "")
    chosen = chosen.strip()
    return check_facility_id(chosen) if chosen else None


def check_facility_id(facility: str) -> str:
    """A facility id that can name a schema: lower-case letters, digits, '-' and '_'."""
    if not _FACILITY_ID.match(facility):
        raise InvalidInput(
            f"{facility!r} is not a facility id: use lower-case letters, digits, '-' or '_', "
            "starting with a letter (at most 40 characters), e.g. 'north' or 'site-2'"
        )
    return facility


def schema_for(facility: str) -> str:
    """The PostgreSQL schema holding one facility's tables."""
    return SCHEMA_PREFIX + check_facility_id(facility).replace("-", "_")


class NetworkBase(DeclarativeBase):
    metadata = MetaData(schema=NETWORK_SCHEMA)
    type_annotation_map = {datetime: UTCDateTime}


class NetworkFacility(NetworkBase):
    """One facility (program, site) of the network and the schema its tables live in."""

    __tablename__ = "facility"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    schema_name: Mapped[str] = mapped_column(String(63), unique=True)
    created_at: Mapped[datetime]


class NetworkPerson(NetworkBase):
    """A person who works at several facilities: one row per facility, the staff id there."""

    __tablename__ = "person"

    facility_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(64), index=True)


class NetworkTravel(NetworkBase):
    """Minutes to travel between two sites (stored once, the ids in order)."""

    __tablename__ = "travel"

    first: Mapped[str] = mapped_column(String(40), primary_key=True)
    second: Mapped[str] = mapped_column(String(40), primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer)


class NetworkGrant(NetworkBase):
    """A role a person of one facility holds at every facility of the network."""

    __tablename__ = "grant"

    facility_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    granted_at: Mapped[datetime]
    granted_by: Mapped[str] = mapped_column(String(100))


class NetworkTransfer(NetworkBase):
    """A patient moved from a program at one facility to a program at another: the link back."""

    __tablename__ = "transfer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    from_facility: Mapped[str] = mapped_column(String(40))
    from_patient: Mapped[str] = mapped_column(String(64))
    to_facility: Mapped[str] = mapped_column(String(40))
    to_patient: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)


_NETWORKS: set[str] = set()
"""Databases known to hold a network (a network, once made, stays: no need to ask again)."""
_NOT_YET: dict[str, float] = {}
"""Databases found without a network, and when: asked again after NOT_YET_SECONDS."""
NOT_YET_SECONDS = 5.0


def has_network(engine: Engine) -> bool:
    """Whether this database holds a network (its `network` schema with the facility list)."""
    if engine.dialect.name != "postgresql":
        return False
    where = engine.url.render_as_string(hide_password=True)
    if where in _NETWORKS:
        return True
    asked = _NOT_YET.get(where)
    if asked is not None and time.monotonic() - asked < NOT_YET_SECONDS:
        return False
    with engine.connect() as connection:
        found = bool(inspect(connection).has_table("facility", schema=NETWORK_SCHEMA))
    if found:
        _NETWORKS.add(where)
        _NOT_YET.pop(where, None)
    else:
        _NOT_YET[where] = time.monotonic()
    return found


def ensure_network(engine: Engine) -> None:
    """Bring the `network` schema to this program's newest migration (clinic/network_migrations;
    it also puts btree_gist in `public`). Run under `migrate.migration_lock`, as every
    migration is; nothing is done when it is current."""
    if engine.dialect.name != "postgresql":
        raise InvalidInput(SQLITE_REFUSAL)
    migrate.upgrade(engine, NETWORK_SCHEMA, migrate.NETWORK_MIGRATIONS)
    _NOT_YET.pop(engine.url.render_as_string(hide_password=True), None)


def network_migration(engine: Engine) -> str | None:
    """The network schema's migration (None: no network, or one made before its migrations)."""
    return migrate.current(engine, NETWORK_SCHEMA)


def network_is_current(engine: Engine) -> bool:
    return migrate.is_current(engine, NETWORK_SCHEMA, migrate.NETWORK_MIGRATIONS)


def ensure_schema(engine: Engine, facility: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema_for(facility)}"))


def facilities(session: Session) -> list[NetworkFacility]:
    """The network's facilities in id order (none without a network)."""
    return list(session.scalars(select(NetworkFacility).order_by(NetworkFacility.id)))


def known_facility(session: Session, facility: str) -> NetworkFacility:
    row = session.get(NetworkFacility, facility)
    if row is None:
        known = ", ".join(f.id for f in facilities(session)) or "none yet"
        raise NotFound(
            f"no facility {facility!r} in this network (facilities: {known}); "
            f"`rota load FILE --facility {facility}` loads one"
        )
    return row


def register(session: Session, facility: str, name: str) -> NetworkFacility:
    """Add (or rename) a facility of the network."""
    row = session.get(NetworkFacility, facility)
    if row is None:
        row = NetworkFacility(
            id=facility, name=name, schema_name=schema_for(facility), created_at=now_utc()
        )
        session.add(row)
    else:
        row.name = name
    return row


def link_person(session: Session, person: str, sites: dict[str, str]) -> None:
    """Record that one person works at several facilities: {facility: their staff id there}."""
    for facility, staff_id in sites.items():
        known_facility(session, facility)
        row = session.get(NetworkPerson, (facility, staff_id))
        if row is None:
            session.add(NetworkPerson(facility_id=facility, staff_id=staff_id, person=person))
        else:
            row.person = person


def sites_of(session: Session, facility: str, staff_id: str) -> dict[str, str]:
    """Every facility the person behind (facility, staff_id) works at, with their staff id
    there (just {facility: staff_id} for someone at one site)."""
    row = session.get(NetworkPerson, (facility, staff_id))
    if row is None:
        return {facility: staff_id}
    rows = session.scalars(select(NetworkPerson).where(NetworkPerson.person == row.person))
    return {r.facility_id: r.staff_id for r in rows}


def set_travel(session: Session, a: str, b: str, minutes: int) -> None:
    if a == b:
        raise InvalidInput("travel minutes are between two different facilities")
    if minutes < 0:
        raise InvalidInput(f"travel minutes must be zero or more, not {minutes}")
    first, second = sorted((a, b))
    row = session.get(NetworkTravel, (first, second))
    if row is None:
        session.add(NetworkTravel(first=first, second=second, minutes=minutes))
    else:
        row.minutes = minutes


def travel_minutes(session: Session, a: str, b: str) -> int:
    """Minutes between two sites (0 between a site and itself, or when none are recorded)."""
    if a == b:
        return 0
    first, second = sorted((a, b))
    row = session.get(NetworkTravel, (first, second))
    return row.minutes if row is not None else 0


def grant(session: Session, facility: str, staff_id: str, role: str, by: str) -> None:
    """A network-wide role for a person of `facility` (a director of the whole network)."""
    known_facility(session, facility)
    if session.get(NetworkGrant, (facility, staff_id, role)) is None:
        session.add(
            NetworkGrant(
                facility_id=facility,
                staff_id=staff_id,
                role=role,
                granted_at=now_utc(),
                granted_by=by,
            )
        )


def granted_roles(session: Session, facility: str, staff_id: str) -> frozenset[str]:
    rows = session.scalars(
        select(NetworkGrant.role).where(
            NetworkGrant.facility_id == facility, NetworkGrant.staff_id == staff_id
        )
    )
    return frozenset(rows)


@contextmanager
def facility_session(engine: Engine, facility: str) -> Iterator[Session]:
    """A read-only ORM session on another facility's schema, through any engine of the
    database: the same models and queries, each table name mapped to that schema."""
    bound = engine.execution_options(schema_translate_map={None: schema_for(facility)})
    session = Session(bound)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


# --- people at several sites: their time at the other sites -----------------------------------

_HERE: dict[str, str] = {}
"""Schema name → the network facility it holds."""


def here(session: Session) -> str | None:
    """The network facility a session's connection is on (None: no network, or SQLite)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql" or not has_network(bind.engine):
        return None
    schema = str(session.scalar(text("SELECT current_schema()")))
    known = _HERE.get(schema)
    if known is None:  # only a facility found is kept: one being loaded is listed at its end
        known = session.scalar(
            select(NetworkFacility.id).where(NetworkFacility.schema_name == schema)
        )
        if known is not None:
            _HERE[schema] = known
    return known


@dataclass(frozen=True)
class Elsewhere:
    """A session of a person at another site, widened by the travel to and from it."""

    facility: str
    staff_id: str
    start: datetime
    end: datetime
    travel: int


def _other_sites(
    session: Session, facility: str, staff_ids: Iterable[str]
) -> list[tuple[str, str, str]]:
    """(staff id here, other facility, staff id there) for each person linked to other sites."""
    ids = list(staff_ids)
    if not ids:
        return []
    mine = session.scalars(
        select(NetworkPerson).where(
            NetworkPerson.facility_id == facility, NetworkPerson.staff_id.in_(ids)
        )
    ).all()
    persons = {row.person: row.staff_id for row in mine}
    if not persons:
        return []
    others = session.scalars(
        select(NetworkPerson).where(
            NetworkPerson.person.in_(persons), NetworkPerson.facility_id != facility
        )
    )
    return [(persons[o.person], o.facility_id, o.staff_id) for o in others]


def elsewhere(
    session: Session, staff_ids: Iterable[str], start: datetime, end: datetime
) -> dict[str, list[Elsewhere]]:
    """For each of `staff_ids` (ids at this facility) who also works at other sites, their
    sessions there that come within travel time of [start, end): the time they are not here.
    Empty on a database without a network."""
    facility = here(session)
    if facility is None:
        return {}
    found: dict[str, list[Elsewhere]] = {}
    for mine, other, theirs in _other_sites(session, facility, staff_ids):
        travel = travel_minutes(session, facility, other)
        gap = timedelta(minutes=travel)
        booked = _booked_at(other)
        rows = session.execute(
            select(booked.c.start, booked.c.end).where(
                booked.c.staff_id == theirs,
                booked.c.active.is_(True),
                booked.c.start < end + gap,
                booked.c.end > start - gap,
            )
        )
        for row in rows:
            found.setdefault(mine, []).append(
                Elsewhere(other, theirs, _utc(row.start) - gap, _utc(row.end) + gap, travel)
            )
    return found


@dataclass(frozen=True)
class Held:
    """A session a person holds at another site (as booked there, without the travel)."""

    facility: str
    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


def held_elsewhere(
    session: Session, staff_ids: Iterable[str], start: datetime, end: datetime
) -> dict[str, list[Held]]:
    """For each of `staff_ids` (ids at this facility) who also works at other sites, the
    sessions they hold there that start in [start, end): what their weekly hours here must
    count (a week's cap is the person's, not one site's). Empty without a network."""
    facility = here(session)
    if facility is None:
        return {}
    found: dict[str, list[Held]] = {}
    for mine, other, theirs in _other_sites(session, facility, staff_ids):
        booked = _booked_at(other)
        rows = session.execute(
            select(booked.c.start, booked.c.end).where(
                booked.c.staff_id == theirs,
                booked.c.active.is_(True),
                booked.c.start >= start,
                booked.c.start < end,
            )
        )
        for row in rows:
            found.setdefault(mine, []).append(Held(other, _utc(row.start), _utc(row.end)))
    return found


def facility_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Facility id -> the name people know it by (the id when the network has no name)."""
    wanted = set(ids)
    rows = session.execute(
        select(NetworkFacility.id, NetworkFacility.name).where(NetworkFacility.id.in_(wanted))
    )
    names = {row.id: row.name or row.id for row in rows}
    return {facility: names.get(facility, facility) for facility in wanted}


def _booked_at(facility: str) -> TableClause:
    """Another facility's `appointment_staff` (a staff member's share of each session)."""
    return table(
        "appointment_staff",
        column("staff_id"),
        column("start"),
        column("end"),
        column("active"),
        schema=schema_for(facility),
    )


def linked_here(session: Session) -> list[str]:
    """Staff ids of this facility who also work at other sites of the network."""
    facility = here(session)
    if facility is None:
        return []
    return list(
        session.scalars(select(NetworkPerson.staff_id).where(NetworkPerson.facility_id == facility))
    )


def lock_people(session: Session, staff_ids: Iterable[str]) -> None:
    """Hold, until this transaction ends, a PostgreSQL advisory lock on each person of
    `staff_ids` who works at several sites: two sites booking the same person queue, and the
    second sees the first's session (each statement reads what was committed before it)."""
    facility = here(session)
    if facility is None:
        return
    people = sorted(
        session.scalars(
            select(NetworkPerson.person).where(
                NetworkPerson.facility_id == facility,
                NetworkPerson.staff_id.in_(list(staff_ids)),
            )
        )
    )
    for person in people:  # in one order everywhere: no deadlock between two sites
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"rota-person:{person}"},
        )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
