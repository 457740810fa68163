"""What every turn reads about the facility besides the message: the roster (for parsing), the
names replies use instead of ids, and the LLM gateway built on the roster. The one place that
caches them."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select

from assistant.dialogue.wording import Names
from assistant.llm.gateway import Gateway, LLMConfigError, db_audit_sink
from assistant.phi import redactor_for
from assistant.roster import Roster, load_roster
from clinic.db import Database
from clinic.models import AuditEvent, Group, Patient, SessionType, Staff

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
        with self.db.read() as session:
            key = (
                self.db.url,
                session.scalar(
                    select(func.max(AuditEvent.seq)).where(AuditEvent.action == "facility.load")
                ),
                session.scalar(select(func.count()).select_from(Patient)),
                session.scalar(select(func.count()).select_from(Staff)),
                session.scalar(select(func.count()).select_from(Group)),
            )
            if key != self._key or self._roster is None:
                roster = load_roster(session)
                people = (roster.patients, roster.staff, roster.rooms)
                named = {e.id: e.name for entries in people for e in entries}
                named |= {g.id: g.name for g in session.scalars(select(Group))}
                types = {
                    t.id: t.name or t.id.replace("_", " ")
                    for t in session.scalars(select(SessionType))
                }
                self._roster, self._names, self._key = roster, Names(named, types), key
            return self._roster

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
