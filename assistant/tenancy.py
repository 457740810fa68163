"""Which facility of a network a request is for, and who the caller is there.

A credential (a bearer token, `rota login`, a Slack link, ROTA_OPERATOR) belongs to a staff
member of one facility, their home. At another facility of the network the same person is:
- their staff record there, when the network links the two (someone working at both sites);
- else the roles a network-wide grant gives them (a director of the whole network);
- else nobody: PermissionDenied (403) names the facility and how to be granted.
A person at one facility needs nothing: their credential finds their facility.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from assistant import callers
from assistant.wiring import load_facility_file
from clinic import network
from clinic.db import Database, open_database
from clinic.demo.network import DemoNetwork
from clinic.errors import NotFound, PermissionDenied
from clinic.models import Staff
from clinic.tokens import Caller, check_token

FACILITY_HEADER = "X-Rota-Facility"
"""The HTTP request header naming the facility of a network a request is for."""


@dataclass(frozen=True)
class Home:
    """Where a credential was issued: the facility and the staff id there, and its scope."""

    facility: str
    staff_id: str
    scope: str = "admin"


class Facilities:
    """A server's databases: its own (`default`) and, on a network, one per facility, each
    opened once and kept (their connection pools are shared by every request)."""

    def __init__(self, default: Database) -> None:
        self.default = default
        self._opened: dict[str, Database] = {}
        if default.facility is not None:
            self._opened[default.facility] = default
        self._lock = threading.Lock()
        self._network: bool | None = None

    def is_network(self) -> bool:
        if self._network is None:
            self._network = network.has_network(self.default.engine)
        return self._network

    def get(self, facility: str | None) -> Database:
        """The database of `facility` (None: the server's own); NotFound for one the network
        does not have."""
        if facility is None or not facility.strip():
            return self.default
        facility = network.check_facility_id(facility.strip())
        with self._lock:
            found = self._opened.get(facility)
            if found is None:
                found = open_database(self.default.url, facility=facility)
                self._opened[facility] = found
            return found

    def ids(self) -> list[str]:
        if not self.is_network():
            return []
        with self.default.read() as session:
            return [f.id for f in network.facilities(session)]

    def dispose(self) -> None:
        for db in self._opened.values():
            if db is not self.default:
                db.dispose()


def token_home(db: Database, token: str) -> Home | None:
    """The facility of the network (other than `db`'s) where a live bearer token was issued."""
    if not network.has_network(db.engine):
        return None
    with db.read() as session:
        sites = [f.id for f in network.facilities(session) if f.id != db.facility]
    for facility in sites:
        with network.facility_session(db.engine, facility) as session:
            check = check_token(session, token)
            if check.staff is not None:
                return Home(facility, check.staff.id, check.scope)
    return None


def slack_home(db: Database, slack_user: str) -> Home | None:
    """The facility of the network (other than `db`'s) whose staff member is this Slack user."""
    if not slack_user or not network.has_network(db.engine):
        return None
    with db.read() as session:
        sites = [f.id for f in network.facilities(session) if f.id != db.facility]
    for facility in sites:
        with network.facility_session(db.engine, facility) as session:
            staff = session.scalar(select(Staff.id).where(Staff.slack_user_id == slack_user))
            if staff is not None:
                return Home(facility, staff)
    return None


def caller_at(db: Database, home: Home, door: str = "http") -> Caller:
    """Who the person behind `home` is at `db`'s facility, or PermissionDenied."""
    here = db.facility
    if here is None or here == home.facility:
        return _scoped(callers.for_actor(db, home.staff_id, door), home.scope)
    with db.read() as session:
        sites = network.sites_of(session, home.facility, home.staff_id)
        roles = network.granted_roles(session, home.facility, home.staff_id)
        if here in sites:
            staff = session.get(Staff, sites[here])
            if staff is not None:
                return callers.caller_of(staff, door=door, scope=home.scope)
    if roles:
        name = _name_at(db, home)
        return Caller(
            f"{home.staff_id}@{home.facility}",
            name,
            sorted(roles)[0],
            roles=roles,
            door=door,
            scope=home.scope,
        )
    raise PermissionDenied(
        f"{home.staff_id} works at facility {home.facility!r}, not at {here!r}: nothing of "
        f"{here!r} is open to them unless the network links them to a staff record there "
        "or grants them a role network-wide (`rota network grant`)"
    )


def home_at(db: Database, caller: Caller) -> Home:
    """Where `caller`, a person at `db`'s facility, comes from: for finding who they are at
    another facility (`caller_at`). A network-wide grant's caller is named STAFF@FACILITY;
    anyone else is a staff member here (linked to other sites or not)."""
    granted = parse_operator(caller.staff_id)
    if granted is not None:
        return Home(granted.facility, granted.staff_id, caller.scope)
    return Home(db.facility or "", caller.staff_id, caller.scope)


@contextmanager
def at_facility(db: Database, caller: Caller, facility: str) -> Iterator[tuple[Database, Caller]]:
    """Another facility of the network opened for `caller` (a person at `db`'s): its database
    and who they are there (PermissionDenied when nobody); closed afterwards."""
    other = open_database(db.url, facility=facility)
    try:
        yield other, caller_at(other, home_at(db, caller), door=caller.door)
    finally:
        other.dispose()


def facility_named(db: Database, words: str) -> str:
    """The id of the network's facility that `words` name (its id, or its name or a word of
    it: "Bayview" for "Bayview Recovery Center"), else NotFound listing them."""
    sites = listing(db)
    said = " ".join(words.lower().split())
    for match in (
        lambda f: said == f["id"],
        lambda f: said == f["name"].lower(),
        lambda f: said in f["name"].lower().split() or f["name"].lower().startswith(said),
    ):
        found = [f["id"] for f in sites if match(f)]
        if len(found) == 1:
            return found[0]
    known = ", ".join(f"{f['id']} ({f['name']})" for f in sites) or "none: this is one facility"
    raise NotFound(f"no facility {words!r} in this network (facilities: {known})")


def _scoped(caller: Caller, scope: str) -> Caller:
    if scope == caller.scope:
        return caller
    return Caller(caller.staff_id, caller.name, caller.role, caller.roles, caller.door, scope)


def _name_at(db: Database, home: Home) -> str:
    with network.facility_session(db.engine, home.facility) as session:
        name = session.scalar(select(Staff.name).where(Staff.id == home.staff_id))
    return f"{name or home.staff_id} ({home.facility})"


def parse_operator(named: str) -> Home | None:
    """ROTA_OPERATOR's `STAFF@FACILITY` (a person of one facility of a network), or None for
    a plain staff id (someone of the facility in force, as before networks)."""
    staff, at, facility = named.rpartition("@")
    if not at or not staff:
        return None
    return Home(network.check_facility_id(facility), staff)


def grant_network_role(db: Database, facility: str, staff_id: str, role: str, by: str) -> None:
    """A network-wide role for a person of `facility` (`rota network grant`)."""
    with db.session() as session:
        network.grant(session, facility, staff_id, role, by)


def link_person(db: Database, person: str, sites: dict[str, str]) -> None:
    """One person working at several facilities (`rota network link`)."""
    with db.session() as session:
        network.link_person(session, person, sites)


def set_travel(db: Database, a: str, b: str, minutes: int) -> None:
    with db.session() as session:
        network.known_facility(session, a)
        network.known_facility(session, b)
        network.set_travel(session, a, b, minutes)


def listing(db: Database) -> list[dict[str, str]]:
    """The network's facilities (id, name, schema) for `rota network list`."""
    if not network.has_network(db.engine):
        return []
    with db.read() as session:
        return [
            {"id": f.id, "name": f.name, "schema": f.schema_name}
            for f in network.facilities(session)
        ]


def upgrade_every_facility(db: Database) -> list[str]:
    """`rota db upgrade` on a database holding a network: the network's schema and every
    facility's brought to this program's migrations (each under the migration lock), so one
    run from one place precedes a roll-out. The facilities' ids ([] without a network)."""
    ids = [f["id"] for f in listing(db)]
    for facility in ids:
        open_database(db.url, facility=facility).dispose()  # migrates on opening
    return ids


def foreign_home(db: Database, token: str) -> Home | None:
    """Where a bearer token was issued when that is another facility of the network than
    `db`'s (None when it is live here, unknown everywhere, or there is no network)."""
    if not network.has_network(db.engine):
        return None
    with db.read() as session:
        if check_token(session, token).staff is not None:
            return None
    return token_home(db, token)


def load_demo_network(
    url: str,
    demo: DemoNetwork,
    *,
    actor: str,
    as_of: date | None = None,
    replace: bool = False,
) -> list[tuple[str, dict[str, int]]]:
    """`rota demo --network N`: each site loaded into its facility of the network (booked
    through the rules like any file), then the shared clinicians linked and travel set."""
    loaded: list[tuple[str, dict[str, int]]] = []
    for facility, data in demo.sites:
        db = open_database(url, facility=facility, create=True)
        try:
            counts = load_facility_file(
                db, data, replace=replace, actor=actor, source=f"demo:{facility}", as_of=as_of
            )
        finally:
            db.dispose()
        loaded.append((facility, counts))
    root = open_database(url, facility="")
    try:
        with root.session() as session:
            for person, sites in demo.people:
                network.link_person(session, person, sites)
            for (a, b), minutes in demo.travel.items():
                network.set_travel(session, a, b, minutes)
    finally:
        root.dispose()
    return loaded
