"""Schemathesis' auth checks against the live app over demo s, two therapists as peers:
ignored_auth (every route that declares a token refuses a request without one and with a bad
one) and object_level_authorization (a record one therapist reads off their own caseload, the
other, whose caseload leaves it out, may not read) find nothing, and the latter replays reads.
That it fails when a read forgets the caseload: test_openapi_ola.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar import Litestar

from clinic.db import Database
from tests.http.openapi_fuzz import auth_checks

pytestmark = pytest.mark.slow  # scheduled first (tests/conftest.py)

OLA = "object_level_authorization"


def test_auth_checks_find_nothing_for_two_therapists(
    fuzzed_app: Litestar, demo_db: Database, tmp_path: Path
) -> None:
    result = auth_checks(fuzzed_app, demo_db, tmp_path)
    assert result.failures == []
    # Both checks ran on every case (replacing the token check with "anyone is s001" makes
    # ignored_auth fail on 18 operations).
    assert result.checks[("ignored_auth", "SUCCESS")] > 250, result.checks
    assert result.checks[(OLA, "SUCCESS")] > 250, result.checks
    # object_level_authorization sent reads of THERAPIST's patients (drawn from their
    # GET /api/patients) again as OTHER_THERAPIST, whose list leaves them out: each refused.
    # It replays the record read once per peer (the agenda's read too when its fuzzed
    # requests carried no X-Rota-Facility header this server lacks: not every run).
    assert {operation for operation, _ in result.replays} >= {
        "GET /api/patients/{patient_id}",
    }, result.replays
    assert {status for _, status in result.replays} == {403}, result.replays
