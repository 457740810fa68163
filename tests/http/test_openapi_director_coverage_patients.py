"""The OpenAPI document tells the truth in schemathesis' coverage phase for the patient
record's operations (/api/patients...), sent by a clinical director, every check, against the
live app over demo s: no failure. (The other operations: test_openapi_director_coverage.py.)"""

from __future__ import annotations

import pytest
from litestar import Litestar

from clinic.db import Database
from tests.http.openapi_fuzz import DIRECTOR, PATIENT_ROUTES, Paths, fuzz

pytestmark = pytest.mark.slow  # scheduled first (tests/conftest.py)


def test_the_coverage_phase_finds_nothing_on_the_patient_record(
    fuzzed_app: Litestar, demo_db: Database
) -> None:
    result = fuzz(
        fuzzed_app, demo_db, DIRECTOR, coverage=True, fuzzing=False, paths=Paths(PATIENT_ROUTES)
    )
    assert result.cases > 1400, result.cases  # every operation was reached, not skipped
    assert result.failures == []
