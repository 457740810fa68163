"""What every mapping shares: the facility's namespace (identifier systems), logical ids and
references, Rota's own extensions and code systems, and validation with the R4B models.

Rota's records are the facility file's objects (clinic/schemas/facility.schema.json); a FHIR
resource is built from one and read back into one, so the mapping means the same whether the
record came from the database, a file or a use case.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from clinic.errors import InvalidInput

Json = dict[str, Any]

FHIR_VERSION = "4.0.1"
EXT = "https://rota.invalid/fhir/StructureDefinition/"
"""Rota's own extensions (the .invalid domain is reserved: these are Rota's names, not a
published profile)."""
CS = "https://rota.invalid/fhir/CodeSystem/"
TIMEZONE_EXT = "http://hl7.org/fhir/StructureDefinition/timezone"
CPT = "http://www.ama-assn.org/go/cpt"
PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"

FACILITY_LOCATION_ID = "facility"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_ROTA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_SYSTEM = re.compile(r"^urn:rota:([a-z0-9-]+):([a-z-]+)$")

# Fields whose value is a list in the facility file: read back as lists even with one item.
LIST_FIELDS = frozenset(
    {
        "needs",
        "requirements",
        "parts_of_day",
        "avoid_days",
        "consent_disclose_to",
        "consents",
        "session_types",
        "room_kinds",
        "room_features",
        "staff_roles",
        "credentials_any",
        "schedule",
        "facilitators",
        "unavailable",
        *WEEKDAYS,
    }
)
_EMPTY = "empty"  # an empty object ({}): FHIR forbids an extension with neither value nor parts


def slug(name: str) -> str:
    """The facility's name as the namespace of its identifier systems."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "facility"


def fhir_id(rota_id: str) -> str:
    """A Rota id as a FHIR logical id: itself where FHIR allows it ([A-Za-z0-9-.]{1,64}),
    otherwise its allowed characters and a short hash (the business identifier keeps it exact)."""
    if _FHIR_ID.match(rota_id):
        return rota_id
    digest = hashlib.sha1(rota_id.encode(), usedforsecurity=False).hexdigest()[:10]
    return (re.sub(r"[^A-Za-z0-9\-.]", "-", rota_id)[:53] + "-" + digest).strip("-")


def rota_id_from(fhir_logical_id: str) -> str:
    """A foreign resource's logical id as a Rota id (FHIR ids already fit Rota's pattern)."""
    if _ROTA_ID.match(fhir_logical_id):
        return fhir_logical_id
    raise InvalidInput(f"{fhir_logical_id!r} cannot be a Rota id")


@dataclass(frozen=True)
class FhirContext:
    """The facility a resource belongs to: its namespace and zone, and where its resources live
    (the base of fullUrl in a Bundle)."""

    namespace: str
    timezone: str
    base_url: str = "https://rota.invalid/fhir/r4"
    session_type_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_facility(cls, data: Json, base_url: str | None = None) -> FhirContext:
        """The context of a facility file (its `facility` and `session_types`)."""
        names = {t["id"]: t.get("name") or t["id"] for t in data.get("session_types", [])}
        return cls(
            namespace=slug(data["facility"]["name"]),
            timezone=data["facility"]["timezone"],
            base_url=base_url or cls.base_url,
            session_type_names=names,
        )

    def system(self, kind: str) -> str:
        """The identifier system of one kind of record: urn:rota:<facility>:<kind>."""
        return f"urn:rota:{self.namespace}:{kind}"

    def identifier(self, kind: str, rota_id: str) -> Json:
        return {"use": "usual", "system": self.system(kind), "value": rota_id}

    def full_url(self, resource_type: str, logical_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/{resource_type}/{logical_id}"


def reference(resource_type: str, rota_id: str, display: str | None = None) -> Json:
    out: Json = {"reference": f"{resource_type}/{fhir_id(rota_id)}"}
    if display:
        out["display"] = display
    return out


def rota_identifier(resource: Json, kind: str) -> str | None:
    """The Rota id a resource carries as its business identifier (any facility's namespace)."""
    for ident in resource.get("identifier") or []:
        m = _SYSTEM.match(ident.get("system") or "")
        if m and m.group(2) == kind and ident.get("value"):
            return str(ident["value"])
    return None


def namespace_of(resource: Json) -> str | None:
    for ident in resource.get("identifier") or []:
        m = _SYSTEM.match(ident.get("system") or "")
        if m:
            return m.group(1)
    return None


def coding(system_name: str, code: str, display: str | None = None) -> Json:
    out: Json = {"system": CS + system_name, "code": code}
    if display:
        out["display"] = display
    return out


def codes(concepts: Iterable[Json] | None, system: str) -> list[str]:
    """The codes of `system` in some CodeableConcepts, in order."""
    return [
        c["code"]
        for concept in concepts or []
        for c in concept.get("coding") or []
        if c.get("system") == system and c.get("code")
    ]


# --- Rota's extensions: a record's fields FHIR has no element for, kept whole ------------------


def extensions(record: Json, names: Iterable[str]) -> list[Json]:
    """The named fields of a record as Rota extensions (objects nest, lists repeat)."""
    return [e for name in names if name in record for e in _encode(name, record[name], True)]


def _encode(name: str, value: Any, top: bool) -> list[Json]:
    url = EXT + name if top else name
    if value is None:
        return []
    if isinstance(value, list):
        return [e for item in value for e in _encode(name, item, top)]
    if isinstance(value, dict):
        if not value:
            return [{"url": url, "valueCode": _EMPTY}]
        parts = [e for key, item in value.items() for e in _encode(key, item, False)]
        return [{"url": url, "extension": parts}]
    if isinstance(value, bool):
        return [{"url": url, "valueBoolean": value}]
    if isinstance(value, int):
        return [{"url": url, "valueInteger": value}]
    return [{"url": url, "valueString": str(value)}]


def read_extensions(resource: Json) -> Json:
    """Rota's extensions of a resource back as record fields."""
    found = [e for e in resource.get("extension") or [] if e.get("url", "").startswith(EXT)]
    return _decode(found, top=True)


def _decode(exts: list[Json], top: bool) -> Json:
    out: Json = {}
    for e in exts:
        name = e["url"][len(EXT) :] if top else e["url"]
        if "extension" in e:
            value: Any = _decode(e["extension"], top=False)
        elif e.get("valueCode") == _EMPTY:
            value = {}
        else:
            value = next(
                (
                    e[k]
                    for k in ("valueString", "valueInteger", "valueBoolean", "valueCode")
                    if k in e
                ),
                None,
            )
        if name in LIST_FIELDS:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


# --- weekly hours <-> availableTime ------------------------------------------------------------


def available_time(weekly: dict[str, list[str]]) -> list[Json]:
    """'HH:MM-HH:MM' intervals per weekday → availableTime, days sharing an interval together
    (in weekday order, so equal hours always give equal resources)."""
    by_interval: dict[str, list[str]] = {}
    for day in WEEKDAYS:
        for interval in weekly.get(day, []):
            by_interval.setdefault(interval, []).append(day)
    out = []
    for interval, days in sorted(by_interval.items()):
        start, end = interval.split("-")
        out.append(
            {
                "daysOfWeek": days,
                "availableStartTime": _fhir_time(start),
                "availableEndTime": _fhir_time(end),
            }
        )
    return out


def weekly_hours(times: list[Json]) -> dict[str, list[str]]:
    """availableTime → the facility file's weekly hours (intervals of a day in time order)."""
    out: dict[str, list[str]] = {}
    for t in times:
        if t.get("allDay"):
            interval = "00:00-24:00"
        else:
            interval = f"{_hhmm(t.get('availableStartTime'))}-{_hhmm(t.get('availableEndTime'))}"
        for day in t.get("daysOfWeek") or []:
            out.setdefault(day, []).append(interval)
    return {day: sorted(out[day]) for day in WEEKDAYS if day in out}


def _fhir_time(hhmm: str) -> str:
    return "23:59:59" if hhmm == "24:00" else f"{hhmm}:00"


def _hhmm(fhir_time: str | None) -> str:
    if not fhir_time:
        return "00:00"
    return "24:00" if fhir_time.startswith("23:59:59") else fhir_time[:5]


# --- validation --------------------------------------------------------------------------------


def label(resource: Json) -> str:
    return f"{resource.get('resourceType', 'resource')}/{resource.get('id', '?')}"


def prune(value: Any) -> Any:
    """Without nulls, empty arrays and empty objects, which FHIR's JSON does not allow."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        items = [prune(v) for v in value]
        return [v for v in items if v is not None and v != [] and v != {}]
    return value


@functools.cache
def _model(resource_type: str) -> Any:
    return get_fhir_model_class(resource_type)


def validated(resource: Json) -> Json:
    """The resource, once its R4B model has accepted it (the JSON given is returned as it is:
    writing it out through the model again would double the cost and change nothing Rota
    reads); a problem names the resource and the field."""
    rtype = resource.get("resourceType")
    try:
        model = _model(str(rtype))
    except (KeyError, ValueError) as exc:
        raise InvalidInput(f"{label(resource)}: unknown resourceType {rtype!r}") from exc
    resource = prune(resource)
    try:
        model.model_validate(resource)
        return resource
    except ValidationError as exc:
        problems = [
            f"{label(resource)}: {'.'.join(str(p) for p in (rtype, *err['loc']))}: {err['msg']}"
            for err in exc.errors()
        ]
        raise InvalidInput(f"{label(resource)} is not a valid FHIR R4 {rtype}", problems) from exc
