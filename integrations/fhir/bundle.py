"""Bundles in and out: the facility as a Bundle of type `collection`, and a Bundle brought into
the database — whole, through the facility file's loader, when the database is empty; record
by record through the living record's use cases when a facility is already there.

Every resource is validated (R4B models) and mapped before anything is written, so a bad
Bundle leaves nothing behind; a problem names the resource and its field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from assistant.usecases import exchange
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from integrations.fhir.mapping import bundle_to_facility, facility_to_bundle
from integrations.fhir.mapping.from_fhir import FacilityFromBundle

Json = dict[str, Any]
# The order records come in: who and where before what refers to them.
ORDER = ("rooms", "session_types", "staff", "patients", "groups", "appointments")


def export_bundle(
    db: Database,
    caller: Caller,
    *,
    start: date | None = None,
    end: date | None = None,
    base_url: str | None = None,
) -> Json:
    """The facility as a Bundle of type `collection` (appointments of [start, end] when given)."""
    data = exchange.export_file(db, caller, channel="fhir")
    return facility_to_bundle(data, start=start, end=end, base_url=base_url, timestamp=now_utc())


def read_bundle(path: Path) -> Json:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path}: no such file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: not a FHIR Bundle (expected a JSON object)")
    return data


@dataclass
class ImportReport:
    """What an import did: `mode` loaded (an empty database, whole) or merged (record by
    record), counts per result, every outcome that was not plain, defaults taken, deletions."""

    mode: str
    counts: dict[str, int] = field(default_factory=dict)
    outcomes: list[exchange.Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    resources: int = 0

    def as_record(self) -> Json:
        return {
            "mode": self.mode,
            "resources": self.resources,
            "counts": self.counts,
            "outcomes": [o.as_record() for o in self.outcomes if o.result != "unchanged"],
            "warnings": self.warnings,
        }


def import_bundle(
    db: Database, caller: Caller, bundle: Json, *, source: str, as_of: date | None = None
) -> ImportReport:
    """Bring a Bundle in (see the module's docstring)."""
    mapped = bundle_to_facility(bundle)
    resources = len(bundle.get("entry") or [])
    if exchange.is_empty(db):
        report = ImportReport("loaded", warnings=mapped.warnings, resources=resources)
        report.counts = load_mapped(db, caller, mapped, source=source, as_of=as_of)
    else:
        report = ImportReport("merged", warnings=mapped.warnings, resources=resources)
        for item in incoming(mapped):
            outcome = exchange.apply(db, caller, item)
            report.counts[outcome.result] = report.counts.get(outcome.result, 0) + 1
            report.outcomes.append(outcome)
    exchange.record_import(db, caller, source, {"mode": report.mode, **report.counts})
    return report


def load_mapped(
    db: Database,
    caller: Caller,
    mapped: FacilityFromBundle,
    *,
    source: str,
    as_of: date | None = None,
) -> dict[str, int]:
    """A whole mapped Bundle into an empty database; the loader's problems name their
    resources."""
    if "facility" not in mapped.data:
        raise InvalidInput(
            "the database is empty and the Bundle has no facility Location "
            "(physicalType bu, with the timezone extension): nothing to load it into"
        )
    try:
        return exchange.load_file(db, caller, mapped.data, source=source, as_of=as_of)
    except InvalidInput as exc:
        raise InvalidInput(str(exc), mapped.explain(exc.problems)) from exc


def incoming(mapped: FacilityFromBundle) -> list[exchange.Incoming]:
    """The mapped records, one by one, in dependency order, each with its resource's label."""
    return [
        exchange.Incoming(kind, record, mapped.origins.get(f"$.{kind}[{i}]", f"{kind}[{i}]"))
        for kind in ORDER
        for i, record in enumerate(mapped.data.get(kind, []))
    ]
