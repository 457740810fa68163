"""/api/groups: create and end standing groups, enrol and remove members, over the group use
cases (enrolment is judged by the rules' `enroll`). Bodies are the facility file's objects."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import delete, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from assistant.usecases import groups
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from integrations.http.api import ApiController
from integrations.http.contracts import facility_object, json_object

NewGroup = Annotated[dict[str, Any], json_object(facility_object("groups"))]
Enrolment = Annotated[
    dict[str, Any],
    json_object(
        {
            "type": "object",
            "required": ["patient"],
            "properties": {"patient": facility_object("id")},
        }
    ),
]
TEXT = {"type": "string", "minLength": 1}
ENDING = {"type": "object", "properties": {"reason": TEXT, "override_reason": TEXT}}


def _text(data: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        problem = f"$.{key}: required" if value is None else f"$.{key}: expected a string"
        raise InvalidInput(f"the request has a problem: {problem}", [problem])
    return value


class GroupController(ApiController):
    path = "/api/groups"
    tags = ["groups"]

    @post("/", sync_to_thread=True, status_code=201)
    def create(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        data: NewGroup,
    ) -> dict[str, Any]:
        """Create a group (the facility file's group object; each member enrolled by the
        rules)."""
        return groups.create_group(db, caller, groups.CreateGroup(data))

    @post("/{group_id:str}/members", sync_to_thread=True, status_code=201)
    def enrol(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        group_id: FromPath[str],
        data: Enrolment,
    ) -> dict[str, Any]:
        """Enrol a patient: `{"patient": ID}`. Returns the group record (`group`) and the
        booked sessions ahead they joined (`joined`) or could not (`not_joined`, with why)."""
        patient = _text(data, "patient")
        assert patient is not None
        return groups.enrol(db, caller, groups.Enrol(group_id, patient))

    @delete("/{group_id:str}/members/{patient_id:str}", sync_to_thread=True, status_code=200)
    def unenrol(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        group_id: FromPath[str],
        patient_id: FromPath[str],
    ) -> dict[str, Any]:
        """Take a patient out of the group and its booked sessions ahead (`group`, `left`,
        `not_left`)."""
        return groups.unenrol(db, caller, groups.Unenrol(group_id, patient_id))

    @post("/{group_id:str}/end", sync_to_thread=True, status_code=200)
    def end(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        group_id: FromPath[str],
        data: Annotated[dict[str, Any] | None, json_object(ENDING)] = None,
    ) -> dict[str, Any]:
        """End the group: `{"reason": ..., "override_reason": ...}` (both optional). Its future
        sessions are cancelled; the list is returned."""
        data = data or {}
        return groups.end_group(
            db,
            caller,
            groups.EndGroup(
                group_id,
                now_utc(),
                reason=_text(data, "reason", required=False),
                override_reason=_text(data, "override_reason", required=False),
            ),
        )
