"""The facilities the job engines run jobs for: every facility of a network, or the one.

On a network (clinic.network) a job runs once per facility and key: each facility's `job_run`
table lives in its own schema, so the claim is per facility without changing it, and an engine
asks for the facility list at every tick, so a facility added to the network (`rota load FILE
--facility ID`) gets its jobs without restarting any process. A database with no network is
one facility, exactly as before: the engines see just their own database.
"""

from __future__ import annotations

from assistant.tenancy import Facilities
from clinic import network
from clinic.db import Database


class Sites:
    """An engine's databases: its own, and each facility's once opened (kept, with its pool)."""

    def __init__(self, db: Database) -> None:
        self.facilities = Facilities(db)

    @property
    def default(self) -> Database:
        return self.facilities.default

    def ids(self) -> list[str | None]:
        """The facility of every database jobs run for now (None: the one facility)."""
        default = self.facilities.default
        # Asked every time (not Facilities.is_network's first answer): a database becomes a
        # network when its first facility is loaded, while workers run.
        if not network.has_network(default.engine):
            return [None]
        with default.read() as session:
            return [f.id for f in network.facilities(session)]

    def get(self, facility: str | None) -> Database:
        """The database of one facility (None: the engine's own)."""
        return self.facilities.get(facility)

    def databases(self) -> list[Database]:
        return [self.get(facility) for facility in self.ids()]

    def dispose(self) -> None:
        self.facilities.dispose()
