"""The demo network: a share of clinicians at two sites, never booked at both at once nor
without the travel minutes between them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from clinic.demo.network import demo_network
from clinic.errors import InvalidInput


def _spans(data: dict, staff: str) -> list[tuple[datetime, datetime]]:
    out = []
    for a in data["appointments"]:
        if staff in a["staff"] and a.get("status") not in ("cancelled", "late_cancelled"):
            start = datetime.fromisoformat(a["start"])
            out.append((start, start + timedelta(minutes=a["minutes"])))
    return out


def test_shared_clinicians_are_never_at_two_sites_at_once() -> None:
    made = demo_network(3, "s", 7, date(2026, 11, 30), history_weeks=1)
    assert [f for f, _ in made.sites] == ["site-1", "site-2", "site-3"]
    assert made.people, "some clinicians work at two sites"
    assert all(15 <= m <= 45 for m in made.travel.values())
    files = dict(made.sites)
    shared_with: dict[str, set[str]] = {}
    for _, sites in made.people:
        (a, staff_a), (b, staff_b) = sorted(sites.items())
        for site in sites:
            shared_with.setdefault(f"{site}/{sites[site]}", set()).update(set(sites) - {site})
        gap = timedelta(minutes=made.travel[(a, b)])
        for s1, e1 in _spans(files[a], staff_a):
            for s2, e2 in _spans(files[b], staff_b):
                assert not (s1 < e2 + gap and s2 - gap < e1), (staff_a, s1, s2)
    assert all(len(others) == 1 for others in shared_with.values())  # one other site each


def test_a_network_has_two_sites_or_more() -> None:
    with pytest.raises(InvalidInput, match="2 to 50 sites"):
        demo_network(1)
