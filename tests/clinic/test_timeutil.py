"""Times are stored in UTC and read in the facility's zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from clinic.errors import InvalidInput
from clinic.timeutil import (
    Interval,
    day_bounds,
    intersect_weekly,
    opening_hours,
    parse_datetime,
    parse_weekly,
    weekly_spans,
    within_weekly,
)

NY = ZoneInfo("America/New_York")


def test_local_times_become_utc_with_the_right_offset() -> None:
    assert parse_datetime("2026-12-01T09:00", NY) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert parse_datetime("2026-07-01T09:00", NY) == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)
    assert parse_datetime("2026-07-01T09:00Z", NY) == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def test_a_time_in_the_spring_gap_is_refused() -> None:
    with pytest.raises(InvalidInput, match="does not exist in America/New_York"):
        parse_datetime("2026-03-08T02:30", NY)


def test_dst_days_have_23_and_25_hours() -> None:
    spring = day_bounds(date(2026, 3, 8), NY)
    autumn = day_bounds(date(2026, 11, 1), NY)
    assert (spring[1] - spring[0]).total_seconds() == 23 * 3600
    assert (autumn[1] - autumn[0]).total_seconds() == 25 * 3600


def test_weekly_hours_follow_wall_clock_across_dst() -> None:
    hours = parse_weekly({"mon": ["09:00-17:00"]})
    before = parse_datetime("2026-03-02T09:00", NY)  # EST
    after = parse_datetime("2026-03-09T09:00", NY)  # EDT: a different UTC hour, same wall clock
    for start in (before, after):
        assert within_weekly(hours, start, start.replace(hour=start.hour + 1), NY)


def test_bad_text_gets_a_clear_message() -> None:
    with pytest.raises(InvalidInput, match="is not a date-time: use ISO 8601"):
        parse_datetime("next tuesday", NY)


def test_weekly_spans_lay_a_template_over_real_days_across_dst() -> None:
    tz = NY
    # Sunday 2026-03-08 clocks spring forward; 09:00-17:00 is 8 hours on Friday and Monday alike.
    days = [date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 9)]
    spans = weekly_spans({"mon": [Interval(9 * 60, 17 * 60)], "fri": [(9 * 60, 24 * 60)]}, days, tz)
    assert spans == [
        (datetime(2026, 3, 6, 14, 0, tzinfo=UTC), datetime(2026, 3, 7, 5, 0, tzinfo=UTC)),
        (datetime(2026, 3, 9, 13, 0, tzinfo=UTC), datetime(2026, 3, 9, 21, 0, tzinfo=UTC)),
    ]


def test_business_days_count_monday_to_friday_after_the_first_day() -> None:
    from clinic.timeutil import business_days_between

    friday = date(2026, 12, 4)
    assert business_days_between(friday, friday) == 0
    assert business_days_between(friday, date(2026, 12, 6)) == 0  # the weekend
    assert business_days_between(friday, date(2026, 12, 7)) == 1
    assert business_days_between(friday, date(2026, 12, 18)) == 10
    assert business_days_between(date(2026, 12, 7), friday) == 0


def test_a_template_and_the_facility_hours_share_only_common_time() -> None:
    hours = opening_hours(["mon", "tue"], "08:00", "17:00")
    staff = parse_weekly({"mon": ["07:00-09:00", "12:00-20:00"], "wed": ["08:00-17:00"]})
    assert intersect_weekly(staff or {}, hours) == {"mon": ((8 * 60, 9 * 60), (12 * 60, 17 * 60))}
