"""One record of the facility file, checked as strictly as the whole file.

The living record (admit a patient, add a clinician, create a group, close a room) changes one
record at a time. It is checked by the facility file's own validator: the record is put in its
place among everything else the database holds (appointments left out: bookings are the booking
service's), the whole is validated, and the problems that concern the record are reported with
paths relative to it (`$.authorizations[0].end: ...`), exactly as the file would word them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from clinic.errors import InvalidInput
from clinic.facility_file.export import facility_data
from clinic.facility_file.validate import semantic_problems, shape_problems

SECTIONS = {"rooms": "room", "staff": "staff member", "patients": "patient", "groups": "group"}
# Only the record's own problems are kept: any facility the schema accepts will do beside it.
_ANY_FACILITY = {"name": "any", "timezone": "UTC"}


def record_problems(
    session: Session,
    section: str,
    record: Any,
    *,
    replaces: str | None = None,
) -> list[str]:
    """Every problem with `record` as an item of `section` ('$.path: why', relative to the
    record). `replaces`: the id of the record it replaces (an update); None adds it."""
    if section not in SECTIONS:
        raise ValueError(f"unknown section {section!r}")
    data = facility_data(session, appointments=False, patient_details=False)
    items: list[Any] = data[section]
    index = next((i for i, item in enumerate(items) if item["id"] == replaces), None)
    if replaces is not None and index is None:
        raise InvalidInput(f"there is no {SECTIONS[section]} {replaces!r} to update")
    if index is None:
        index = len(items)
        items.append(record)
    else:
        items[index] = record
    # The schema checks each item on its own: check the record alone (the whole file's shape
    # would cost a schema pass over every patient), then the cross-references against the rest.
    shape = shape_of(section, record, data["version"], data["facility"])
    if shape:
        return shape
    return _relative(semantic_problems(data), f"$.{section}[{index}]")


def shape_of(section: str, record: Any, version: Any = 1, facility: Any | None = None) -> list[str]:
    """The schema's problems with `record` alone, as an item of `section` (no database read):
    what a use case refuses before it derives anything from the record."""
    alone = {key: [] for key in SECTIONS} | {
        "version": version,
        "facility": facility if facility is not None else _ANY_FACILITY,
        section: [record],
    }
    return _relative(shape_problems(alone), f"$.{section}[0]")


def check_shape(section: str, record: Any) -> None:
    """Raise InvalidInput listing every problem `shape_of` finds."""
    problems = shape_of(section, record)
    if problems:
        raise InvalidInput(
            f"the {SECTIONS[section]} record has {len(problems)} problem(s)", problems
        )


def _relative(problems: list[str], prefix: str) -> list[str]:
    """The problems under `prefix`, with their paths relative to it."""
    return [
        "$" + problem[len(prefix) :]
        for problem in problems
        if problem.startswith(prefix) and problem[len(prefix) : len(prefix) + 1] in (".", ":", "[")
    ]


def check_record(
    session: Session,
    section: str,
    record: Any,
    *,
    replaces: str | None = None,
) -> None:
    """Raise InvalidInput listing every problem with `record` (see `record_problems`)."""
    problems = record_problems(session, section, record, replaces=replaces)
    if problems:
        raise InvalidInput(
            f"the {SECTIONS[section]} record has {len(problems)} problem(s)", problems
        )
