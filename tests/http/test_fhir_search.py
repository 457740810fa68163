"""FHIR search values: date prefixes as [start, end) in the facility's zone, references, tokens."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from integrations.http.fhir.search import BadSearch, date_bound, reference_id, token_codes

TZ = ZoneInfo("America/New_York")


def test_date_prefixes_bound_the_window() -> None:
    week = date_bound("start", ["ge2026-12-01", "lt2026-12-08"], TZ)
    assert (week.start, week.end) == (
        datetime(2026, 12, 1, tzinfo=TZ),
        datetime(2026, 12, 8, tzinfo=TZ),
    )
    day = date_bound("date", ["2026-12-01"], TZ)  # no prefix: the whole local day
    assert (day.start, day.end) == (
        datetime(2026, 12, 1, tzinfo=TZ),
        datetime(2026, 12, 2, tzinfo=TZ),
    )
    after = date_bound("date", ["gt2026-12-01", "le2026-12-03T10:00"], TZ)
    assert after.start == datetime(2026, 12, 2, tzinfo=TZ)
    assert after.end == datetime(2026, 12, 3, 10, 0, 1, tzinfo=TZ)
    utc = date_bound("start", ["ge2026-12-01T15:00:00Z"], TZ)
    assert utc.start == datetime(2026, 12, 1, 10, tzinfo=TZ) and utc.end is None
    assert date_bound("start", ["ge2026-12-08", "lt2026-12-01"], TZ).empty


@pytest.mark.parametrize("value", ["next tuesday", "2026-02-30", "0000-01-01", "ne2026-12-01"])
def test_a_date_that_is_not_one_is_a_bad_search(value: str) -> None:
    with pytest.raises(BadSearch):
        date_bound("start", [value], TZ)


def test_references_and_tokens() -> None:
    assert reference_id("patient", "Patient/p0050", "Patient") == "p0050"
    assert reference_id("patient", "p0050", "Patient") == "p0050"
    with pytest.raises(BadSearch):
        reference_id("patient", "Practitioner/c001", "Patient")
    assert token_codes(["urn:rota:x:session-type|individual,family"]) == ["individual", "family"]
