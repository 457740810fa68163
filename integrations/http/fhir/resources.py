"""Practitioner, Location, Schedule and Slot: read and search, as the caller's roles allow."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import Parameter, QueryParameter

from assistant.usecases import directory as directory_uc
from assistant.usecases import open_slots as slots_uc
from clinic.db import Database
from clinic.errors import NotFound
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from integrations.fhir.mapping import (
    facility_location_to_fhir,
    fhir_id,
    location_to_fhir,
    practitioner_to_fhir,
    schedule_id,
    schedule_to_fhir,
)
from integrations.fhir.mapping.common import FACILITY_LOCATION_ID, Json
from integrations.http.api import BEARER
from integrations.http.fhir.capability import allowed
from integrations.http.fhir.context import Facade, base_url, facade, fhir, strict
from integrations.http.fhir.outcome import FHIR_JSON, outcome_responses
from integrations.http.fhir.search import (
    DATE_PATTERN,
    ID_PATTERN,
    count,
    date_bound,
    reference_id,
    searchset,
    skip,
    token_codes,
)
from integrations.http.fhir.slots import parse_slot_id, slot_id, slot_to_fhir

READ_ERRORS = outcome_responses(400, 401, 403, 404, 406, 422, 429)
SCHEDULE_DAYS = 14
"""A Schedule's planning horizon: from today, this many days (as the bulk publication)."""
SLOT_DAYS = 7
"""The Slot search's window when `start` gives no end."""
LATE_END = timedelta(hours=4)
"""Longer than any session: how far past the last start a slot may end."""

COUNT = QueryParameter(
    name="_count",
    default=None,
    ge=0,
    le=1000,
    schema_extra={"minimum": 0},  # Litestar leaves out a bound of 0
    description="at most this many entries (default 100)",
)
OFFSET = QueryParameter(
    name="_offset",
    default=None,
    ge=0,
    schema_extra={"minimum": 0},
    description="skip this many matches (the Bundle's next link pages with it)",
)
ID = QueryParameter(name="_id", default=None, pattern=ID_PATTERN, description="the logical id")
LogicalId = Annotated[str, Parameter(pattern=ID_PATTERN, description="the logical id")]


def reference(name: str, *types: str) -> Any:
    """A reference search parameter: `Type/id` (one of `types`) or the bare id."""
    kinds = "|".join(types)
    return QueryParameter(
        name=name,
        default=None,
        pattern=rf"^(({kinds})/)?[A-Za-z0-9\-.]{{1,64}}$",
        description=f"{' or '.join(f'{t}/ID' for t in types)}, or the bare ID",
    )


def dates(name: str, description: str) -> Any:
    """A repeatable FHIR date search parameter ([prefix]date or dateTime)."""
    return QueryParameter(
        name=name,
        default=None,
        schema_extra={"items": {"type": "string", "pattern": DATE_PATTERN}},
        description=f"{description}; repeatable: {name}=ge2026-12-01&{name}=lt2026-12-08",
    )


NAME = QueryParameter(name="name", default=None, description="part of the name, any case")
SERVICE_TYPE = QueryParameter(
    name="service-type", default=None, description="session type code (or system|code)"
)


def _search(
    request: Request[Any, Any, Any],
    rtype: str,
    resources: list[Json],
    limit: int | None,
    offset: int | None,
    warnings: list[str] | None = None,
) -> Response[dict[str, Any]]:
    strict(request, allowed(rtype))
    url = str(request.url)
    bundle = searchset(resources, base_url(request), url, count(limit), warnings, skip(offset))
    return fhir(bundle)


def _read(resources: list[Json], rtype: str, logical_id: str) -> Response[dict[str, Any]]:
    found = next((r for r in resources if r["id"] == logical_id), None)
    if found is None:
        raise NotFound(f"no {rtype} {logical_id!r}")
    return fhir(found)


def _named(resources: list[Json], name: str | None) -> list[Json]:
    if not name:
        return resources
    words = name.lower()
    return [r for r in resources if words in _name_text(r).lower()]


def _name_text(resource: Json) -> str:
    names = resource.get("name")
    if isinstance(names, str):
        return names
    return " ".join(n.get("text", "") for n in names or [])


def _by_id(resources: list[Json], logical_id: str | None) -> list[Json]:
    return resources if logical_id is None else [r for r in resources if r["id"] == logical_id]


def practitioners(view: Facade) -> list[Json]:
    return [practitioner_to_fhir(s, view.ctx) for s in view.directory.staff]


def locations(view: Facade) -> list[Json]:
    facility = facility_location_to_fhir(view.directory.facility, view.ctx)
    return [facility, *(location_to_fhir(r, view.ctx) for r in view.directory.rooms)]


def schedules(db: Database, caller: Caller | None, view: Facade) -> list[Json]:
    """One Schedule per clinician, with the session types they provide and the facility as
    where (a SMART Scheduling Links client looks for a Location actor)."""
    now = now_utc()
    start = now.astimezone(view.tz).date()
    end = start + timedelta(days=SCHEDULE_DAYS)
    out = []
    for item in slots_uc.clinician_schedules(db, caller, now, now + timedelta(SCHEDULE_DAYS)):
        resource = schedule_to_fhir(
            "staff", item.staff, view.ctx, display=item.name, start=start, end=end
        )
        resource["actor"].append({"reference": f"Location/{FACILITY_LOCATION_ID}"})
        resource["serviceType"] = [{"coding": [_service(view, t)]} for t in item.session_types]
        out.append(resource)
    return out


def _service(view: Facade, session_type: str) -> Json:
    out: Json = {"system": view.ctx.system("session-type"), "code": session_type}
    name = view.ctx.session_type_names.get(session_type)
    return out | ({"display": name} if name else {})


def _offers(resource: Json, codes: list[str]) -> bool:
    have = {c["code"] for concept in resource.get("serviceType", []) for c in concept["coding"]}
    return bool(have & set(codes))


def _codes(value: str | None) -> list[str]:
    return token_codes([value]) if value else []


class PractitionerController(Controller):
    path = "/fhir/r4/Practitioner"
    tags = ["fhir"]
    security = BEARER

    @get("/", sync_to_thread=True, media_type=FHIR_JSON, responses=READ_ERRORS)
    def search(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        logical_id: str | None = ID,
        name: str | None = NAME,
        limit: int | None = COUNT,
        offset: int | None = OFFSET,
    ) -> Response[dict[str, Any]]:
        """Search the clinicians and other staff (searchset Bundle)."""
        view = facade(request, directory_uc.directory(db, caller))
        found = _named(_by_id(practitioners(view), logical_id), name)
        return _search(request, "Practitioner", found, limit, offset)

    @get("/{logical_id:str}", sync_to_thread=True, media_type=FHIR_JSON, responses=READ_ERRORS)
    def read(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        logical_id: LogicalId,
    ) -> Response[dict[str, Any]]:
        """One staff member."""
        view = facade(request, directory_uc.directory(db, caller))
        return _read(practitioners(view), "Practitioner", logical_id)


class LocationController(Controller):
    path = "/fhir/r4/Location"
    tags = ["fhir"]
    security = BEARER

    @get("/", sync_to_thread=True, media_type=FHIR_JSON, responses=READ_ERRORS)
    def search(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        logical_id: str | None = ID,
        name: str | None = NAME,
        limit: int | None = COUNT,
        offset: int | None = OFFSET,
    ) -> Response[dict[str, Any]]:
        """Search the facility and its rooms (searchset Bundle)."""
        view = facade(request, directory_uc.directory(db, caller))
        found = _named(_by_id(locations(view), logical_id), name)
        return _search(request, "Location", found, limit, offset)

    @get("/{logical_id:str}", sync_to_thread=True, media_type=FHIR_JSON, responses=READ_ERRORS)
    def read(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        logical_id: LogicalId,
    ) -> Response[dict[str, Any]]:
        """The facility (`facility`) or one room."""
        view = facade(request, directory_uc.directory(db, caller))
        return _read(locations(view), "Location", logical_id)


class ScheduleController(Controller):
    path = "/fhir/r4/Schedule"
    tags = ["fhir"]
    security = BEARER

    @get("/", sync_to_thread=True, media_type=FHIR_JSON, responses=READ_ERRORS)
    def search(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        logical_id: str | None = ID,
        actor: str | None = reference("actor", "Practitioner", "PractitionerRole", "Location"),
        service_type: str | None = SERVICE_TYPE,
        limit: int | None = COUNT,
        offset: int | None = OFFSET,
    ) -> Response[dict[str, Any]]:
        """Search the clinicians' Schedules (searchset Bundle)."""
        view = facade(request, directory_uc.directory(db, caller))
        found = _by_id(schedules(db, caller, view), logical_id)
        if actor is not None:
            wanted = actor.strip() if "/" in actor else f"Practitioner/{actor.strip()}"
            found = [r for r in found if any(wanted.endswith(a["reference"]) for a in r["actor"])]
        if service_type is not None:
            found = [r for r in found if _offers(r, _codes(service_type))]
        return _search(request, "Schedule", found, limit, offset)

    @get("/{logical_id:str}", sync_to_thread=True, media_type=FHIR_JSON, responses=READ_ERRORS)
    def read(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        logical_id: LogicalId,
    ) -> Response[dict[str, Any]]:
        """One clinician's Schedule (`staff-ID`)."""
        view = facade(request, directory_uc.directory(db, caller))
        return _read(schedules(db, caller, view), "Schedule", logical_id)


class SlotController(Controller):
    path = "/fhir/r4/Slot"
    tags = ["fhir"]
    security = BEARER

    @get("/", sync_to_thread=True, media_type=FHIR_JSON, responses=READ_ERRORS)
    def search(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        start: list[str] | None = dates("start", "[prefix]date or dateTime of the slot's start"),
        schedule: str | None = reference("schedule", "Schedule"),
        actor: str | None = reference("schedule.actor", "Practitioner"),
        service_type: str | None = SERVICE_TYPE,
        status: str | None = QueryParameter(
            name="status", default=None, description="free (the only status published)"
        ),
        limit: int | None = COUNT,
        offset: int | None = OFFSET,
    ) -> Response[dict[str, Any]]:
        """Free slots from Rota's slot finder (searchset Bundle, earliest first)."""
        strict(request, allowed("Slot"))
        view = facade(request, directory_uc.directory(db, caller))
        staff = [s["id"] for s in view.directory.staff]
        if schedule is not None:
            wanted = reference_id("schedule", schedule, "Schedule")
            staff = [s for s in staff if schedule_id("staff", s) == wanted]
        if actor is not None:
            wanted = reference_id("schedule.actor", actor, "Practitioner")
            staff = [s for s in staff if fhir_id(s) == wanted]
        now = now_utc()
        bound = date_bound("start", start or [], view.tz)
        lo = max(bound.start or now, now)
        hi = bound.end or lo + timedelta(days=SLOT_DAYS)
        codes = _codes(service_type)
        if status is not None and "free" not in _codes(status):
            staff = []  # busy time is never published
        if not staff or bound.empty or hi <= lo:
            return _search(request, "Slot", [], limit, offset)
        warnings = []
        if hi + LATE_END - lo > slots_uc.MAX_WINDOW:
            hi = lo + slots_uc.MAX_WINDOW - LATE_END
            warnings.append(
                f"only slots starting before {hi.astimezone(view.tz).isoformat()} were searched "
                f"(at most {slots_uc.MAX_WINDOW.days} days at a time): ask again from there"
            )
        # A slot starting before `hi` may end after it: search a little further, keep the starts.
        query = slots_uc.OpenSlotsQuery(lo, hi + LATE_END, tuple(staff), tuple(codes))
        found = [s for s in slots_uc.open_slots(db, caller, query, now) if s.start < hi]
        resources = [slot_to_fhir(s, view.ctx, view.tz) for s in found]
        return _search(request, "Slot", resources, limit, offset, warnings)

    @get("/{logical_id:str}", sync_to_thread=True, media_type=FHIR_JSON, responses=READ_ERRORS)
    def read(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        logical_id: LogicalId,
    ) -> Response[dict[str, Any]]:
        """One slot, while it is still free (404 once it is taken or past)."""
        staff, session_type, start = parse_slot_id(logical_id)
        view = facade(request, directory_uc.directory(db, caller))
        query = slots_uc.OpenSlotsQuery(start, start + LATE_END, (staff,), (session_type,))
        for slot in slots_uc.open_slots(db, caller, query):
            if slot.start == start and slot_id(slot) == logical_id:
                return fhir(slot_to_fhir(slot, view.ctx, view.tz))
        raise NotFound(f"slot {logical_id!r} is no longer free")
