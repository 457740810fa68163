"""A demo network: N demo facilities (`site-1` … `site-N`, seeds seed … seed+N-1), with a share
of clinicians working at two neighbouring sites and travel minutes between every two sites.

The facilities are generated one by one; a clinician shared by sites i and i+1 keeps their
sessions at site i, and site i+1's file loses those of theirs that fall within the travel time
of one at site i (history included), so the network never books anyone at two sites at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from clinic.demo import generate_demo
from clinic.errors import InvalidInput

CLINICAL_ROLES = frozenset(
    {"psychiatrist", "nurse_practitioner", "therapist", "counselor", "nurse"}
)
SHARE = 0.25
"""The share of a site's clinicians who also work at the next site."""
MOST_SITES = 50
INTAKE = "intake_assessment"


@dataclass
class DemoNetwork:
    sites: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(facility id, facility file) per site, in order."""
    people: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """(person, {facility: staff id}) for each clinician working at two sites."""
    travel: dict[tuple[str, str], int] = field(default_factory=dict)
    """Minutes between two sites (ids in order)."""


def site_id(n: int) -> str:
    return f"site-{n}"


def demo_network(
    sites: int,
    size: str = "s",
    seed: int = 7,
    start: date | None = None,
    *,
    history_weeks: int = 12,
) -> DemoNetwork:
    if not 2 <= sites <= MOST_SITES:
        raise InvalidInput(f"a demo network has 2 to {MOST_SITES} sites, not {sites}")
    rng = random.Random(seed)  # nosec B311  # seeded simulation, not a secret
    out = DemoNetwork()
    ids = [site_id(n + 1) for n in range(sites)]
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            out.travel[(a, b)] = 15 + 5 * rng.randrange(0, 7)  # 15 to 45 minutes
    previous: dict[str, Any] | None = None
    for i, facility in enumerate(ids):
        data = generate_demo(size, seed + i, start, history_weeks=history_weeks)
        if previous is not None:
            clinicians = [s["id"] for s in data["staff"] if s["role"] in CLINICAL_ROLES]
            count = max(1, round(SHARE * len(clinicians)))
            # Alternate halves, so no one is shared with both neighbours.
            chosen = clinicians[i % 2 :: 2][:count]
            gap = timedelta(minutes=out.travel[(ids[i - 1], facility)])
            for staff in chosen:
                busy = _sessions(previous, staff)
                dropped = [
                    a for a in data["appointments"] if staff in a["staff"] and _near(a, busy, gap)
                ]
                # A patient whose intake assessment goes has no later session either
                # (LOC-INTAKE-FIRST would refuse them).
                unassessed = {
                    p for a in dropped if a["session_type"] == INTAKE for p in a["patients"]
                }
                gone = {a["id"] for a in dropped}
                data["appointments"] = [
                    a
                    for a in data["appointments"]
                    if a["id"] not in gone and not unassessed & set(a["patients"])
                ]
                out.people.append((f"{ids[i - 1]}/{staff}", {ids[i - 1]: staff, facility: staff}))
        out.sites.append((facility, data))
        previous = data
    return out


def _span(appt: dict[str, Any]) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(appt["start"])
    return start, start + timedelta(minutes=int(appt.get("minutes", 60)))


def _sessions(data: dict[str, Any], staff: str) -> list[tuple[datetime, datetime]]:
    return [
        _span(a)
        for a in data["appointments"]
        if staff in a["staff"] and a.get("status") not in ("cancelled", "late_cancelled")
    ]


def _near(appt: dict[str, Any], busy: list[tuple[datetime, datetime]], gap: timedelta) -> bool:
    start, end = _span(appt)
    return any(start < b + gap and a - gap < end for a, b in busy)
