"""A FHIR R4 facade on Rota (`/fhir/r4`): CapabilityStatement, Practitioner, Location,
Schedule, Slot (free slots from the slot finder) and Appointment (create through the booking
use case), with Rota's bearer tokens and roles, JSON only, errors as OperationOutcome; and the
SMART Scheduling Links bulk publication of free slots."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get
from litestar.di import NamedDependency, Provide

from clinic.timeutil import now_utc
from integrations.http.fhir.appointments import AppointmentFhirController
from integrations.http.fhir.bulk import ROUTES as BULK_ROUTES
from integrations.http.fhir.bulk import BulkSettings
from integrations.http.fhir.capability import capability_statement
from integrations.http.fhir.context import ROOT, base_url, fhir, strict
from integrations.http.fhir.negotiation import json_only
from integrations.http.fhir.outcome import FHIR_JSON, fhir_aware, outcome_responses
from integrations.http.fhir.resources import (
    LocationController,
    PractitionerController,
    ScheduleController,
    SlotController,
)

__all__ = ["BulkSettings", "fhir_aware", "fhir_router"]


@get(
    f"{ROOT}/metadata",
    sync_to_thread=False,
    media_type=FHIR_JSON,
    tags=["fhir"],
    responses=outcome_responses(400, 406),
)
def metadata(
    request: Request[Any, Any, Any], fhir_settings: NamedDependency[BulkSettings]
) -> Response[dict[str, Any]]:
    """The CapabilityStatement: what this server implements (no token needed)."""
    strict(request, frozenset())
    statement = capability_statement(
        base_url(request),
        now_utc().isoformat(timespec="seconds"),
        bulk_publish=fhir_settings.enabled,
    )
    return fhir(statement)


def fhir_router(settings: BulkSettings | None = None) -> Router:
    """Every FHIR route under one Router: JSON only (406 otherwise)."""
    bulk = settings or BulkSettings.from_env()
    handlers: list[Any] = [
        metadata,
        PractitionerController,
        LocationController,
        ScheduleController,
        SlotController,
        AppointmentFhirController,
    ]
    if bulk.enabled:
        handlers += BULK_ROUTES
    return Router(
        path="/",
        route_handlers=handlers,
        guards=[json_only],
        dependencies={"fhir_settings": Provide(lambda: bulk, sync_to_thread=False)},
    )
