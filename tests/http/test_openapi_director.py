"""The OpenAPI document tells the truth for a clinical director: schemathesis' examples,
fuzzing and stateful phases (every check) against the live app over demo s answer no failure.
(The coverage phase: test_openapi_director_coverage*.py.)"""

from __future__ import annotations

import pytest
from litestar import Litestar

from clinic.db import Database
from tests.http.openapi_fuzz import DIRECTOR, fuzz

pytestmark = pytest.mark.slow  # scheduled first (tests/conftest.py)


def test_schemathesis_finds_nothing_for_a_clinical_director(
    fuzzed_app: Litestar, demo_db: Database
) -> None:
    result = fuzz(fuzzed_app, demo_db, DIRECTOR, coverage=False)
    assert result.cases > 250, result.cases
    assert result.failures == []
