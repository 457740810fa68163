"""/api/rooms/{id}/closures: close a room for a period (the facility file's period object); the
closure is recorded and its sessions' repair proposed, for an approver to apply."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import post
from litestar.di import NamedDependency
from litestar.params import FromPath

from assistant.usecases import rooms
from assistant.usecases.periods import read_period
from clinic.db import Database
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from integrations.http.api import ApiController
from integrations.http.contracts import facility_object, json_object

# read_period refuses any other key
PERIOD = facility_object("period") | {"additionalProperties": False}
Closure = Annotated[dict[str, Any], json_object(PERIOD)]


class RoomController(ApiController):
    path = "/api/rooms"
    tags = ["rooms"]

    @post("/{room_id:str}/closures", sync_to_thread=True, status_code=201)
    def close(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        room_id: FromPath[str],
        data: Closure,
    ) -> dict[str, Any]:
        """Close the room over `{start, end, reason}`; returns the repair proposal."""
        period = read_period(data, db.facility_tz())
        assert period.end is not None
        return rooms.close_room(
            db,
            caller,
            rooms.CloseRoom(room_id, period.start, period.end, now_utc(), reason=period.reason),
        )
