"""The generating process behind demo histories: stated rates hold, and draws are repeatable."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from clinic.attendance_process import AttendanceProcess, Visit


def _visits(n: int) -> list[Visit]:
    r = random.Random(3)
    out = []
    for _ in range(n):
        start = datetime(2026, 9, 7, 9) + timedelta(days=r.randrange(84), hours=r.randrange(9))
        if start.weekday() < 5:
            out.append(Visit(f"p{r.randrange(200)}", start, r.choice(["group", "individual"]), 7))
    return out


def test_missed_sessions_run_in_the_cited_20_to_40_percent_band() -> None:
    process = AttendanceProcess(seed=11)
    counts = Counter(process.outcome(v) for v in _visits(6000))
    kept_or_missed = counts["attended"] + counts["no_show"] + counts["late_cancelled"]
    missed = (counts["no_show"] + counts["late_cancelled"]) / kept_or_missed
    assert 0.18 <= missed <= 0.40, counts


def test_an_outcome_is_the_same_whatever_order_it_is_asked_in() -> None:
    visits = _visits(300)
    first = [AttendanceProcess(5).outcome(v) for v in visits]
    again = [AttendanceProcess(5).outcome(v) for v in reversed(visits)]
    assert first == list(reversed(again))
    assert first != [AttendanceProcess(6).outcome(v) for v in visits]


def test_risk_rises_with_recent_misses_and_falls_with_a_reminder() -> None:
    process = AttendanceProcess(seed=1)
    base = Visit("p1", datetime(2026, 9, 8, 10), "individual", lead_days=7)
    risky = Visit("p1", base.start, "individual", lead_days=7, recent_misses=2)
    reminded = Visit("p1", base.start, "individual", lead_days=7, reminded=True)
    assert process.no_show_probability(risky) > process.no_show_probability(base)
    ratio = process.no_show_probability(reminded) / process.no_show_probability(base)
    assert abs(ratio - 0.77) < 1e-9
