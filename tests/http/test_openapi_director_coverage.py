"""The OpenAPI document tells the truth in schemathesis' coverage phase (boundary and negative
cases for every parameter and body; the same requests for any caller), sent by a clinical
director, every check, against the live app over demo s: no failure. Every operation but the
patient record's (test_openapi_director_coverage_patients.py: half the phase's time, so xdist
runs the halves on different workers)."""

from __future__ import annotations

import pytest
from litestar import Litestar

from clinic.db import Database
from tests.http.openapi_fuzz import DIRECTOR, PATIENT_ROUTES, Paths, fuzz

pytestmark = pytest.mark.slow  # scheduled first (tests/conftest.py)


def test_the_coverage_phase_finds_nothing_outside_the_patient_record(
    fuzzed_app: Litestar, demo_db: Database
) -> None:
    result = fuzz(
        fuzzed_app,
        demo_db,
        DIRECTOR,
        coverage=True,
        fuzzing=False,
        paths=Paths(PATIENT_ROUTES, outside=True),
    )
    assert result.cases > 2000, result.cases  # every operation was reached, not skipped
    assert result.failures == []
