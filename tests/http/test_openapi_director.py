"""The OpenAPI document tells the truth for a clinical director: schemathesis (every check)
against the live app over demo s answers no failure. The coverage phase (~3,000 boundary and
negative cases, the same requests for any caller) and the fuzzing and stateful phases run as two
tests, so xdist's workers can take one each; the therapist's run is in
test_openapi_therapist.py."""

from __future__ import annotations

from litestar import Litestar

from clinic.db import Database
from tests.http.openapi_fuzz import fuzz

DIRECTOR = "s001"


def test_the_coverage_phase_finds_nothing_for_a_clinical_director(
    fuzzed_app: Litestar, demo_db: Database
) -> None:
    result = fuzz(fuzzed_app, demo_db, DIRECTOR, coverage=True, fuzzing=False)
    assert result.cases > 3000, result.cases  # every operation was reached, not skipped
    assert result.failures == []
