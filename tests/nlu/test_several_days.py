"""Several days named in one message are one window of whole days (issue 16: "out Thursday and
Friday"); with a clock time, the first of them."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.parse import parse
from tests.nlu.roster_data import roster

NOW = datetime.fromisoformat("2026-12-02T10:15:00-05:00")  # a Wednesday


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("I'm out thursday and friday", "2026-12-03T00:00", "2026-12-05T00:00"),
        ("okafor is off thurs-fri", "2026-12-03T00:00", "2026-12-05T00:00"),
        ("out thursday through monday", "2026-12-03T00:00", "2026-12-08T00:00"),
        ("out friday to monday", "2026-12-04T00:00", "2026-12-08T00:00"),
        ("find a slot for jamie thursday or friday", "2026-12-03T00:00", "2026-12-05T00:00"),
        ("I'm out today and tomorrow", "2026-12-02T10:15", "2026-12-04T00:00"),
        ("out Dec 21 to Jan 1", "2026-12-21T00:00", "2027-01-02T00:00"),
    ],
)
def test_days_joined_are_one_window(text: str, start: str, end: str) -> None:
    frame = parse(text, roster=roster(), now=NOW, actor="s-okafor")
    window = frame["window"]
    assert (window["start"][:16], window["end"][:16]) == (start, end), frame


def test_a_clock_time_with_two_days_is_the_first_of_them() -> None:
    frame = parse("book jamie thursday and friday at 2", roster=roster(), now=NOW)
    assert frame["window"]["start"].startswith("2026-12-03T14:00")


def test_one_day_is_still_one_day() -> None:
    frame = parse("find a slot for jamie thursday", roster=roster(), now=NOW)
    assert frame["window"] == {
        "start": "2026-12-03T00:00:00-05:00",
        "end": "2026-12-04T00:00:00-05:00",
    }
