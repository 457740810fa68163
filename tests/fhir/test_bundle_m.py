"""Demo m (220 patients; two weeks of history and the booked week, ~1,300 appointments)
round-trips through a FHIR Bundle into a fresh database, identical in every mapped field (the
issue's round trip for the second size: its people and plan; demo s's round trip in
test_bundle.py carries twelve weeks of history, and m's twelve would add a minute)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from tests.fhir.test_bundle import round_trip
from tests.fhir.tiny import NOW


@pytest.mark.slow
def test_demo_m_round_trips_through_a_bundle_into_a_fresh_database(
    tmp_path: Path, set_now: Callable[[datetime], None]
) -> None:
    set_now(NOW)
    bundle, first = round_trip(tmp_path, "m", history_weeks=2)
    first.dispose()
    patients = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert len(patients) == 220
