"""The OpenAPI document tells the truth for a therapist: schemathesis' examples, fuzzing and
stateful phases (every check) against the live app over demo s answer no failure. (The coverage
phase sends the same requests for any caller: test_openapi_director_coverage*.py run it.)"""

from __future__ import annotations

import pytest
from litestar import Litestar

from clinic.db import Database
from tests.http.openapi_fuzz import THERAPIST, fuzz

pytestmark = pytest.mark.slow  # scheduled first (tests/conftest.py)


def test_schemathesis_finds_nothing_for_a_therapist(
    fuzzed_app: Litestar, demo_db: Database
) -> None:
    result = fuzz(fuzzed_app, demo_db, THERAPIST, coverage=False)
    assert result.cases > 250, result.cases
    assert result.failures == []
