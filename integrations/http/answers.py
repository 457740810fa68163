"""The shapes of the answers that name a patient, as the OpenAPI document declares them.

TypedDicts: the routes still return the use cases' dicts unchanged; these only tell a client
(and schemathesis) what those hold. A caseload entry is the `Patient` component, the resource
whose `id` GET /api/patients/{patient_id}, its agenda and court report take, so a client (or a
fuzzer checking object-level authorization) can follow the list to the record. Fields a role
may not see are left out, never nulled: each is NotRequired.
"""

# No `from __future__ import annotations`: a TypedDict reads NotRequired when the class is
# made, and a postponed annotation would make every key required.
from typing import Any, Literal, NotRequired, TypedDict

Relation = Literal["own", "other"]


class Patient(TypedDict):
    """A patient in care, as the caller may see them (the pack's visible fields)."""

    id: str
    relation: Relation
    name: NotRequired[str]
    level_of_care: NotRequired[str]
    phase: NotRequired[str]
    primary_clinician: NotRequired[str]


class Caseload(TypedDict):
    """GET /api/patients."""

    patients: list[Patient]


class PatientRecord(TypedDict):
    """GET /api/patients/{patient_id}: the facility file's patient object as the caller may see
    it, the caller's relation to the patient, and (when they may see authorizations) each
    authorization with its units used, booked and left."""

    patient: dict[str, Any]
    relation: Relation
    authorizations: NotRequired[list[dict[str, Any]]]
