"""The built-in session catalogue (used when a facility file has no `session_types`).

Durations, codes, who may render and where: ../shared/domain/rules-catalogue.md §2 (COD-01..14)
and §6 (STF-04, the service → credential matrix). Facilities override it in their file.
"""

from __future__ import annotations

from typing import Any

CREDENTIAL_GROUPS: dict[str, tuple[str, ...]] = {
    # Licensed psychotherapists (COD-03, STF-04).
    "psychotherapist": ("LCSW", "LPC", "LMHC", "LMFT", "PsyD", "PhD", "MD", "DO", "NP"),
    # Certified or licensed SUD counselors (COD-07: H0004/H0005 by certified counselors).
    "sud_counselor": ("LCADC", "LADC", "CADC", "CAC-AD"),
    # Prescribers: evaluations with medical services, E/M, medication (COD-02, COD-13).
    "prescriber": ("MD", "DO", "NP", "PA"),
    # Dosing and nursing care (COD-11).
    "nursing": ("RN", "LPN", "MD", "DO", "NP", "PharmD"),
}
"""Every credential Rota knows, by group: the one list the catalogue below, the credentials
rule pack (whose matrix names these groups) and the demo draw from."""


def credentials(*groups: str) -> list[str]:
    """The credentials of the named groups, in order, without repeats."""
    return list(dict.fromkeys(c for g in groups for c in CREDENTIAL_GROUPS[g]))


PSYCHOTHERAPISTS = credentials("psychotherapist")
SUD_COUNSELORS = credentials("psychotherapist", "sud_counselor")
PRESCRIBERS = credentials("prescriber")
THERAPY_ROLES = ["therapist", "counselor", "intern", "clinical_director", "psychiatrist"]

BUILTIN_SESSION_TYPES: list[dict[str, Any]] = [
    {
        "id": "individual",
        "name": "Individual psychotherapy",
        "minutes": 45,
        "cpt": "90834",  # COD-03: 38-52 min
        "room_kinds": ["individual", "telehealth"],
        "staff_roles": THERAPY_ROLES,
        "credentials_any": SUD_COUNSELORS,
        "min_patients": 1,
        "max_patients": 1,
    },
    {
        "id": "group",
        "name": "Group counseling",
        "minutes": 90,
        "cpt": "90853",  # COD-05: 60-120 min typical
        "room_kinds": ["group"],
        "staff_roles": THERAPY_ROLES,
        "credentials_any": SUD_COUNSELORS,
        "min_patients": 3,
        "max_patients": 12,  # GRP: 6-12 recommended
    },
    {
        "id": "family",
        "name": "Family psychotherapy (with patient)",
        "minutes": 50,
        "cpt": "90847",  # COD-04
        "room_kinds": ["family", "telehealth"],
        "staff_roles": ["therapist", "clinical_director", "psychiatrist", "intern"],
        "credentials_any": PSYCHOTHERAPISTS,
        "min_patients": 1,
        "max_patients": 1,
    },
    {
        "id": "intake_assessment",
        "name": "Alcohol and drug assessment (intake)",
        "minutes": 60,
        "cpt": "H0001",  # COD-06
        "room_kinds": ["individual", "telehealth"],
        "staff_roles": [
            "therapist",
            "counselor",
            "intake_coordinator",
            "clinical_director",
            "intern",
        ],
        "credentials_any": SUD_COUNSELORS,
        "min_patients": 1,
        "max_patients": 1,
    },
    {
        "id": "psychiatric_evaluation",
        "name": "Psychiatric diagnostic evaluation with medical services",
        "minutes": 60,
        "cpt": "90792",  # COD-02
        "room_kinds": ["medical", "individual", "telehealth"],
        "staff_roles": ["psychiatrist", "nurse_practitioner"],
        "credentials_any": PRESCRIBERS,
        "min_patients": 1,
        "max_patients": 1,
    },
    {
        "id": "medical_evaluation",
        "name": "Medical evaluation (new patient E/M)",
        "minutes": 45,
        "cpt": "99204",  # COD-13: 45-59 min
        "room_kinds": ["medical"],
        "staff_roles": ["physician", "psychiatrist", "nurse_practitioner"],
        "credentials_any": PRESCRIBERS,
        "min_patients": 1,
        "max_patients": 1,
    },
    {
        "id": "medication_management",
        "name": "Medication management (established patient E/M)",
        "minutes": 20,
        "cpt": "99213",  # COD-13: 20-29 min
        "room_kinds": ["medical", "individual", "telehealth"],
        "staff_roles": ["physician", "psychiatrist", "nurse_practitioner"],
        "credentials_any": PRESCRIBERS,
        "min_patients": 1,
        "max_patients": 1,
    },
    {
        "id": "case_management",
        "name": "Case management",
        "minutes": 30,
        "cpt": "H0006",  # COD-12: 15-min units
        "room_kinds": ["individual", "telehealth"],
        "staff_roles": ["case_manager", "counselor", "therapist", "intern"],
        "credentials_any": [],
        "min_patients": 1,
        "max_patients": 1,
    },
    {
        "id": "crisis",
        "name": "Crisis psychotherapy",
        "minutes": 60,
        "cpt": "90839",
        "room_kinds": ["individual"],
        "staff_roles": ["therapist", "counselor", "clinical_director", "psychiatrist"],
        "credentials_any": PSYCHOTHERAPISTS,
        "min_patients": 1,
        "max_patients": 1,
    },
]
