"""What every turn reads about the facility besides the message: the roster (for parsing), the
names replies use instead of ids, and the LLM gateway built on the roster. The one place that
caches them."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from assistant.dialogue.wording import Names
from assistant.llm.gateway import Gateway, LLMConfigError, db_audit_sink
from assistant.phi import redactor_for
from assistant.roster import Roster, load_roster
from clinic.db import Database
from clinic.models import Group, SessionType
from clinic.versions import read_versions

log = logging.getLogger("rota.dialogue")


class Facts:
    """The roster, rebuilt only when the facility or its people change, and the gateway."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._key: tuple[Any, ...] | None = None
        self._roster: Roster | None = None
        self._names = Names({}, {})
        self._gateway: Gateway | None = None
        self._gateway_roster: Roster | None = None

    def roster(self) -> Roster:
        # Names change only with the facility's version (a load; clinic.versions).
        key = (self.db.key, read_versions(self.db).facility)
        if key == self._key and self._roster is not None:
            return self._roster
        with self.db.read() as session:
            roster = load_roster(session)
            people = (roster.patients, roster.staff, roster.rooms)
            named = {e.id: e.name for entries in people for e in entries}
            named |= {g.id: g.name for g in session.scalars(select(Group))}
            types = {
                t.id: t.name or t.id.replace("_", " ") for t in session.scalars(select(SessionType))
            }
        self._roster, self._names, self._key = roster, Names(named, types), key
        return roster

    def names(self) -> Names:
        self.roster()
        return self._names

    def gateway(self) -> Gateway | None:
        """The LLM gateway when ROTA_LLM is set (off by default); rebuilt with the roster."""
        roster = self.roster()
        if self._gateway_roster is not roster:
            try:
                self._gateway = Gateway.from_env(redactor_for(roster), audit=db_audit_sink(self.db))
            except LLMConfigError as exc:
                log.warning("LLM disabled: %s", exc)
                self._gateway = None
            self._gateway_roster = roster
        return self._gateway
