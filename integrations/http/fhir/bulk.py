"""SMART Scheduling Links: the free slots of the coming days as a `$bulk-publish` manifest and
NDJSON files of Locations, Schedules and Slots (https://github.com/smart-on-fhir/
smart-scheduling-links, specification.md). Public by design, so no token: the files name the
facility, its rooms, clinicians and free times, never a patient. ROTA_FHIR_BULK_PUBLISH=off
turns them off; ROTA_FHIR_BULK_DAYS sets how many days of slots (default 14)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from assistant.usecases import directory as directory_uc
from assistant.usecases import open_slots as slots_uc
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc
from integrations.fhir.mapping import validated
from integrations.http.fhir.context import ROOT, base_url, facade
from integrations.http.fhir.outcome import outcome_responses
from integrations.http.fhir.resources import locations, schedules
from integrations.http.fhir.slots import slot_to_fhir

NDJSON = "application/fhir+ndjson"
MANIFEST = f"{ROOT}/$bulk-publish"
FILES = {"Location": "locations.ndjson", "Schedule": "schedules.ndjson", "Slot": "slots.ndjson"}
ERRORS = outcome_responses(404, 406)


@dataclass(frozen=True)
class BulkSettings:
    enabled: bool = True
    days: int = 14

    @classmethod
    def from_env(cls) -> BulkSettings:
        flag = os.environ.get("ROTA_FHIR_BULK_PUBLISH", "on").strip().lower()
        raw = os.environ.get("ROTA_FHIR_BULK_DAYS", "14").strip()
        if not raw.isdigit() or not 1 <= int(raw) <= slots_uc.MAX_WINDOW.days:
            raise InvalidInput(
                f"ROTA_FHIR_BULK_DAYS={raw!r}: a whole number of days, 1 to "
                f"{slots_uc.MAX_WINDOW.days}"
            )
        return cls(enabled=flag not in {"0", "off", "false", "no"}, days=int(raw))


@dataclass
class OutputFile:
    type: str
    url: str


@dataclass
class Manifest:
    """The bulk publication manifest: when, what was asked, and one URL per file."""

    transactionTime: str  # the specification's field names
    request: str
    output: list[OutputFile]
    error: list[Any]


@get(MANIFEST, sync_to_thread=False, tags=["fhir"], responses=ERRORS)
def manifest(request: Request[Any, Any, Any]) -> Manifest:
    """The manifest of the published files (no token needed)."""
    base = base_url(request)
    return Manifest(
        transactionTime=now_utc().isoformat(timespec="seconds"),
        request=f"{base}/$bulk-publish",
        output=[OutputFile(kind, f"{base}/$bulk-publish/{name}") for kind, name in FILES.items()],
        error=[],
    )


def _ndjson(resources: list[dict[str, Any]]) -> Response[bytes]:
    lines = (json.dumps(validated(r), separators=(",", ":")) for r in resources)
    return Response("".join(f"{line}\n" for line in lines).encode(), media_type=NDJSON)


FILE_OK = {200: ResponseSpec(data_container=str, media_type=NDJSON, description="NDJSON file")}


@get(
    f"{MANIFEST}/locations.ndjson",
    sync_to_thread=True,
    tags=["fhir"],
    responses={**FILE_OK, **ERRORS},
)
def location_file(
    request: Request[Any, Any, Any], db: NamedDependency[Database]
) -> Response[bytes]:
    """The facility and its rooms, one Location a line."""
    return _ndjson(locations(facade(request, directory_uc.directory(db, None))))


@get(
    f"{MANIFEST}/schedules.ndjson",
    sync_to_thread=True,
    tags=["fhir"],
    responses={**FILE_OK, **ERRORS},
)
def schedule_file(
    request: Request[Any, Any, Any], db: NamedDependency[Database]
) -> Response[bytes]:
    """The clinicians' Schedules, one a line."""
    view = facade(request, directory_uc.directory(db, None))
    return _ndjson(schedules(db, None, view))


@get(
    f"{MANIFEST}/slots.ndjson",
    sync_to_thread=True,
    tags=["fhir"],
    responses={**FILE_OK, **ERRORS},
)
def slot_file(
    request: Request[Any, Any, Any],
    db: NamedDependency[Database],
    fhir_settings: NamedDependency[BulkSettings],
) -> Response[bytes]:
    """The free slots of the coming days, one a line, earliest first."""
    view = facade(request, directory_uc.directory(db, None))
    found = slots_uc.published_slots(db, fhir_settings.days)
    return _ndjson([slot_to_fhir(s, view.ctx, view.tz) for s in found])


ROUTES = [manifest, location_file, schedule_file, slot_file]
