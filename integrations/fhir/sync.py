"""Importing from a FHIR server (`rota fhir import --server URL [--since T]`).

An empty database gets the whole facility at once: every resource read (paging through `next`
links), mapped as one Bundle and loaded in one transaction, then each resource linked to its
Rota record. A living one is synced incrementally, resource type by type: the resources
updated since the last run (`_lastUpdated=gt…`), page by page, each through the living
record's use cases; the cursor is saved after every page, so a run that stops resumes at the
page it did not finish. Deletions come from the type's `_history` (and an Appointment entered
in error counts as one): a scheduled appointment is cancelled. A record changed in Rota since
it was imported is reported as a conflict and left as it is.

Auth: ROTA_FHIR_TOKEN (bearer) or SMART backend services (ROTA_FHIR_CLIENT_ID, …; see
integrations/fhir/client.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assistant.usecases import exchange
from clinic.db import Database
from clinic.errors import InvalidInput, RotaError
from clinic.tokens import Caller
from integrations.fhir.bundle import ImportReport, load_mapped
from integrations.fhir.client import FhirClient, FhirRejected, auth_from_env
from integrations.fhir.mapping import (
    Resolver,
    appointment_from_fhir,
    bundle_to_facility,
    group_from_fhir,
    patient_from_fhir,
    room_from_fhir,
    rota_id_of,
    session_type_from_fhir,
    staff_from_fhir,
)
from integrations.fhir.mapping.common import label
from integrations.fhir.mapping.from_fhir import KIND_OF, is_facility_location

Json = dict[str, Any]
# What a whole load reads, in order; the incremental sync reads the same but the Coverages and
# RelatedPersons (a patient's authorizations and family contacts come with a whole load or a
# Bundle; an update of the Patient keeps those Rota holds).
LOAD_TYPES = (
    "Location",
    "HealthcareService",
    "Practitioner",
    "PractitionerRole",
    "Patient",
    "Coverage",
    "RelatedPerson",
    "Group",
    "Appointment",
)
SYNC_TYPES = (
    "Location",
    "HealthcareService",
    "PractitionerRole",
    "Practitioner",
    "Patient",
    "Group",
    "Appointment",
)
KIND = {
    "Location": "rooms",
    "HealthcareService": "session_types",
    "Practitioner": "staff",
    "PractitionerRole": "staff",
    "Patient": "patients",
    "Group": "groups",
    "Appointment": "appointments",
}
ROLE_FIELDS = ("role", "specializations", "availability", "unavailable", "max_minutes_per_week")
PAGE_SIZE = 100


def import_server(
    db: Database,
    caller: Caller,
    base_url: str,
    *,
    since: str | None = None,
    client: FhirClient | None = None,
    page_size: int = PAGE_SIZE,
) -> ImportReport:
    """Import from the server at `base_url` (see the module's docstring)."""
    own = client is None
    fhir = client or FhirClient(base_url, auth=auth_from_env(os.environ))
    try:
        if exchange.is_empty(db):
            report = _load(db, caller, fhir, since, page_size)
        else:
            report = _sync(db, caller, fhir, since, page_size)
    finally:
        if own:
            fhir.close()
    exchange.record_import(
        db, caller, f"fhir:{fhir.server}", {"mode": report.mode, **report.counts}
    )
    return report


# --- an empty database: the whole facility at once ---------------------------------------------


def _load(
    db: Database, caller: Caller, fhir: FhirClient, since: str | None, page_size: int
) -> ImportReport:
    resources: list[Json] = []
    seen: dict[str, str | None] = {}
    for rtype in LOAD_TYPES:
        for bundle in fhir.search_pages(rtype, _params(page_size, since)):
            page = _resources(bundle)
            resources += page
            seen[rtype] = exchange.later(seen.get(rtype), _newest(page))
    mapped = bundle_to_facility(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in resources],
        }
    )
    report = ImportReport("loaded", warnings=mapped.warnings, resources=len(resources))
    report.counts = load_mapped(db, caller, mapped, source=f"fhir:{fhir.server}")
    roles = {
        r["id"]: rota_id_of(r)
        for r in resources
        if r["resourceType"] == "Practitioner" and r.get("id")
    }
    links = []
    for r in resources:
        rtype = r["resourceType"]
        if rtype not in KIND or (rtype == "Location" and is_facility_location(r)):
            continue
        if rtype == "Appointment" and r.get("status") == "entered-in-error":
            continue
        rota = rota_id_of(r)
        if rtype == "PractitionerRole":
            ref = ((r.get("practitioner") or {}).get("reference") or "").split("/")[-1]
            rota = roles.get(ref, rota)
        links.append((KIND[rtype], _remote(fhir, r), rota))
    exchange.link_loaded(db, links)
    for rtype in LOAD_TYPES:
        exchange.save_cursor(db, fhir.server, rtype, seen=seen.get(rtype), next_url=None)
    return report


# --- a living database: what changed, page by page ---------------------------------------------


@dataclass
class _Run:
    db: Database
    caller: Caller
    fhir: FhirClient
    report: ImportReport

    def apply(self, item: exchange.Incoming) -> None:
        outcome = exchange.apply(self.db, self.caller, item)
        self.report.counts[outcome.result] = self.report.counts.get(outcome.result, 0) + 1
        self.report.outcomes.append(outcome)

    def refuse(self, resource: Json, exc: RotaError) -> None:
        problems = getattr(exc, "problems", [])
        detail = "; ".join([str(exc), *problems])
        self.report.counts["refused"] = self.report.counts.get("refused", 0) + 1
        self.report.outcomes.append(exchange.Outcome(label(resource), "refused", None, detail))


def _sync(
    db: Database, caller: Caller, fhir: FhirClient, since: str | None, page_size: int
) -> ImportReport:
    run = _Run(db, caller, fhir, ImportReport("synced"))
    for rtype in SYNC_TYPES:
        start = exchange.cursor(db, fhir.server, rtype)
        point = since or start.last_updated
        roles: dict[str, Json] = {}
        for bundle, next_url in _pages(fhir, rtype, start, point, page_size):
            page = _resources(bundle)
            run.report.resources += len(page)
            resolver = Resolver(known=exchange.known_ids(db, fhir.server))
            for resource in page:
                if resource["resourceType"] in KIND_OF:
                    resolver.add(resource)
            for resource in page:
                try:
                    item = _incoming(run, resource, resolver, roles)
                except RotaError as exc:
                    run.refuse(resource, exc)
                    continue
                if item is not None:
                    run.apply(item)
            exchange.save_cursor(db, fhir.server, rtype, seen=_newest(page), next_url=next_url)
        if point and rtype in ("Practitioner", "Patient", "Group", "Appointment"):
            _deletions(run, rtype, point)
    return run.report


def _pages(
    fhir: FhirClient, rtype: str, start: exchange.Cursor, point: str | None, page_size: int
) -> Iterator[tuple[Json, str | None]]:
    """Each page of what changed, with its `next` link; from the page an unfinished run
    stopped before, if any."""
    if start.next_url and start.next_url.startswith(fhir.base_url + "/"):
        pages = fhir.search_pages(start.next_url[len(fhir.base_url) + 1 :])
    else:
        pages = fhir.search_pages(rtype, _params(page_size, point))
    for bundle in pages:
        next_url = next(
            (lk.get("url") for lk in bundle.get("link") or [] if lk.get("relation") == "next"),
            None,
        )
        yield bundle, next_url


def _incoming(
    run: _Run, resource: Json, resolver: Resolver, roles: dict[str, Json]
) -> exchange.Incoming | None:
    """One server resource as the record to bring in (None: nothing to bring in alone)."""
    rtype = resource["resourceType"]
    warnings = run.report.warnings
    remote = _remote(run.fhir, resource)
    where = label(resource)
    if rtype == "Location":
        if is_facility_location(resource):
            return None
        return exchange.Incoming("rooms", room_from_fhir(resource, warnings), where, remote)
    if rtype == "HealthcareService":
        record = session_type_from_fhir(resource, warnings)
        return exchange.Incoming("session_types", record, where, remote)
    if rtype == "PractitionerRole":
        # A role changed: bring its practitioner in with it (read from the server).
        ref = resource.get("practitioner")
        if not ref:
            return None
        logical = ref["reference"].split("/")[-1]
        roles[logical] = resource
        practitioner = run.fhir.read("Practitioner", logical).resource or {}
        record = staff_from_fhir(practitioner, resource, warnings)
        return exchange.Incoming("staff", record, where, _remote(run.fhir, practitioner))
    if rtype == "Practitioner":
        role = roles.get(resource["id"])
        if role is not None:
            return None  # already brought in with its role in this run
        known = (rtype, resource["id"]) in resolver.known
        record = staff_from_fhir(resource, None, [] if known else warnings)
        if known:  # its role was not sent: Rota's role and hours stay
            record = {k: v for k, v in record.items() if k not in ROLE_FIELDS}
        return exchange.Incoming("staff", record, where, remote)
    if rtype == "Patient":
        return exchange.Incoming(
            "patients", patient_from_fhir(resource, (), (), resolver), where, remote
        )
    if rtype == "Group":
        return exchange.Incoming("groups", group_from_fhir(resource, resolver), where, remote)
    if rtype == "Appointment":
        record = appointment_from_fhir(resource, resolver)
        if record is not None and (rtype, resource["id"]) in resolver.known:
            record["id"] = resolver.known[(rtype, resource["id"])]
        return exchange.Incoming("appointments", record, where, remote)
    raise InvalidInput(f"{where}: not a resource Rota imports")


def _deletions(run: _Run, rtype: str, point: str) -> None:
    """Resources of `rtype` the server deleted since `point` (its _history): each brought in
    as deleted (an appointment still to happen is cancelled)."""
    try:
        entries = list(run.fhir.history(rtype, since=point))
    except FhirRejected as exc:  # a server without history: say so, do not guess
        run.report.warnings.append(f"{rtype}: deletions not read ({exc})")
        return
    done: set[str] = set()
    for entry in entries:  # newest first: the first entry of a resource is where it stands
        request = entry.get("request") or {}
        logical = (request.get("url") or "").split("/")[-1]
        if not logical or logical in done:
            continue
        done.add(logical)
        if request.get("method") != "DELETE":
            continue
        remote = exchange.Remote(run.fhir.server, rtype, logical)
        run.apply(exchange.Incoming(KIND[rtype], None, f"{rtype}/{logical}", remote))


# --- small helpers -----------------------------------------------------------------------------


def _params(page_size: int, point: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"_count": page_size}
    if point:
        params["_lastUpdated"] = f"gt{point}"
    return params


def _resources(bundle: Json) -> list[Json]:
    return [
        e["resource"]
        for e in bundle.get("entry") or []
        if e.get("resource") and (e.get("search") or {}).get("mode", "match") == "match"
    ]


def _newest(page: list[Json]) -> str | None:
    newest = None
    for r in page:
        newest = exchange.later(newest, (r.get("meta") or {}).get("lastUpdated"))
    return newest


def _remote(fhir: FhirClient, resource: Json) -> exchange.Remote:
    meta = resource.get("meta") or {}
    return exchange.Remote(
        fhir.server,
        resource["resourceType"],
        resource["id"],
        meta.get("versionId"),
        meta.get("lastUpdated"),
    )
