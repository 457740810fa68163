"""Reading an EHR's own resources (no Rota identifiers, no Rota extensions): what the standard
elements say is kept, what FHIR cannot say takes a stated default, and what Rota has no meaning
for is refused by name."""

from __future__ import annotations

import pytest

from clinic.errors import InvalidInput
from integrations.fhir.mapping import (
    Resolver,
    appointment_from_fhir,
    patient_from_fhir,
    room_from_fhir,
    staff_from_fhir,
)

EHR_APPOINTMENT = {
    "resourceType": "Appointment",
    "id": "E100",
    "status": "arrived",
    "serviceType": [{"coding": [{"system": "http://snomed.info/sct", "code": "individual"}]}],
    "start": "2026-12-01T14:00:00Z",
    "end": "2026-12-01T14:50:00Z",
    "participant": [
        {"actor": {"reference": "PractitionerRole/R7"}, "status": "accepted"},
        {"actor": {"reference": "Patient/P9"}, "status": "accepted"},
    ],
}


def test_an_ehr_appointment_reads_with_its_own_ids_and_lengths() -> None:
    resolver = Resolver(known={("Practitioner", "R7"): "c1", ("Patient", "P9"): "p9"})
    record = appointment_from_fhir(EHR_APPOINTMENT, resolver)
    assert record == {
        "id": "E100",
        "session_type": "individual",
        "start": "2026-12-01T14:00:00Z",
        "minutes": 50,
        "staff": ["c1"],
        "patients": ["p9"],
        "status": "checked_in",
    }
    assert appointment_from_fhir({**EHR_APPOINTMENT, "status": "entered-in-error"}) is None
    with pytest.raises(InvalidInput, match=r"Appointment/E100: Appointment.status 'waitlist'"):
        appointment_from_fhir({**EHR_APPOINTMENT, "status": "waitlist"})


def test_what_fhir_does_not_say_takes_a_stated_default() -> None:
    warnings: list[str] = []
    staff = staff_from_fhir(
        {
            "resourceType": "Practitioner",
            "id": "R7",
            "name": [{"given": ["Ana"], "family": "Lima"}],
            "telecom": [{"system": "email", "value": "ana@ehr.example"}],
        },
        None,
        warnings,
    )
    room = room_from_fhir({"resourceType": "Location", "id": "L2", "name": "Suite 2"}, warnings)
    assert staff == {
        "id": "R7",
        "name": "Ana Lima",
        "role": "therapist",
        "email": "ana@ehr.example",
    }
    assert room == {"id": "L2", "name": "Suite 2", "kind": "individual", "capacity": 2}
    assert warnings == [
        "Practitioner/R7: no Rota staff role; taken as therapist",
        "Location/L2: no Rota room kind; taken as individual",
        "Location/L2: no capacity; taken as 2",
    ]


def test_a_patient_from_an_ehr_keeps_identifiers_and_contact() -> None:
    record = patient_from_fhir(
        {
            "resourceType": "Patient",
            "id": "P9",
            "identifier": [
                {
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                "code": "MR",
                            }
                        ]
                    },
                    "system": "urn:oid:1.2.3",
                    "value": "MRN-55",
                }
            ],
            "name": [{"given": ["Jo"], "family": "Park"}],
            "birthDate": "1991-02-03",
            "gender": "female",
            "telecom": [{"system": "phone", "value": "+15555550199"}],
        }
    )
    assert record == {
        "id": "P9",
        "name": "Jo Park",
        "dob": "1991-02-03",
        "mrn": "MRN-55",
        "sex": "female",
        "contact": {"phone": "+15555550199"},
    }
