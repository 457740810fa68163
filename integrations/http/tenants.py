"""The facility a request is for, on a network of facilities (assistant.tenancy).

`X-Rota-Facility: ID` names it; without the header a request is for the server's own facility
(`rota serve --facility ID` / ROTA_FACILITY, else the database's one facility), unless the
bearer token was issued at another facility of the network: then it is for that one, so a
person of one facility needs no header. A facility the network does not have is 404.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import HeaderParameter

from assistant import tenancy
from assistant.dialogue import Dialogue
from assistant.tenancy import FACILITY_HEADER, Facilities
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound


class Tenants:
    """A server's facilities and one conversation engine per facility."""

    def __init__(self, facilities: Facilities, dialogue: Dialogue) -> None:
        self.facilities = facilities
        self._dialogues: dict[str, Dialogue] = {dialogue.db.key: dialogue}
        self._lock = threading.Lock()

    def dialogue(self, db: Database) -> Dialogue:
        with self._lock:
            found = self._dialogues.get(db.key)
            if found is None:
                found = self._dialogues[db.key] = Dialogue(db)
            return found


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def provide_db(
    request: Request[Any, Any, Any],
    tenants: NamedDependency[Tenants],
    facility: Annotated[
        str | None,
        HeaderParameter(
            name=FACILITY_HEADER,
            required=False,
            description="On a network of facilities: the facility (its id) this request is "
            "for. Optional for a person of one facility (their token names it); a facility "
            "they have no access to is 403, one the network does not have 404.",
        ),
    ] = None,
) -> Database:
    facilities = tenants.facilities
    if facility:
        try:
            return facilities.get(facility)
        except InvalidInput as exc:  # a malformed id, or a server that is no network
            raise NotFound(f"no facility {facility!r} here: {exc}") from exc
    default = facilities.default
    token = bearer_token(request)
    if token is None or not facilities.is_network():
        return default
    home = tenancy.foreign_home(default, token)
    return default if home is None else facilities.get(home.facility)


def provide_dialogue(db: NamedDependency[Database], tenants: NamedDependency[Tenants]) -> Dialogue:
    return tenants.dialogue(db)
