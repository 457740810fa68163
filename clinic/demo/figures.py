"""A demo file's own figures, read from the file alone (the README's table, bench/demo.py and the
tests compute them here): booked share of working hours, sessions a week, history length, missed
share, and each patient's scheduled week."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from clinic.models import ACTIVE_STATUSES, OUTCOME_STATUSES
from clinic.timeutil import WEEKDAYS, parse_hhmm

SESSION_ROLES = {
    "therapist",
    "counselor",
    "intern",
    "psychiatrist",
    "nurse_practitioner",
    "physician",
    "case_manager",
    "clinical_director",
    "intake_coordinator",
}
THERAPY = ("individual", "group", "family")
CLINICAL = ("individual", "group", "family", "medication_management", "intake_assessment")


def _day(a: dict[str, Any]) -> date:
    return date.fromisoformat(a["start"][:10])


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def working_minutes(member: dict[str, Any], first: date, last: date) -> int:
    """Minutes of the member's weekly hours over the days first..last (inclusive), less absences
    (the demo's absences are whole days)."""
    away = {p["start"][:10] for p in member.get("unavailable", [])}
    total, day = 0, first
    while day <= last:
        if day.isoformat() not in away:
            for span in member.get("availability", {}).get(WEEKDAYS[day.weekday()], []):
                a, b = span.split("-")
                total += parse_hhmm(b) - parse_hhmm(a)
        day += timedelta(days=1)
    return total


def booked_share(data: dict[str, Any], start: date, weeks: int = 4) -> dict[str, Any]:
    """Minutes of sessions that held the time (attended or no-show, as the utilization report
    counts them) over working minutes, in the `weeks` weeks before the week of `start`: overall
    and per clinician who delivers sessions."""
    first = _monday(start) - timedelta(days=7 * weeks)
    last = _monday(start) - timedelta(days=1)
    held: dict[str, int] = defaultdict(int)
    for a in data["appointments"]:
        if first <= _day(a) <= last and a["status"] in ACTIVE_STATUSES:
            for sid in a["staff"]:
                held[sid] += a["minutes"]
    per = {}
    for member in data["staff"]:
        if member["role"] in SESSION_ROLES:
            work = working_minutes(member, first, last)
            if work:
                per[member["id"]] = round(held[member["id"]] / work, 3)
    total_work = sum(working_minutes(m, first, last) for m in data["staff"] if m["id"] in per)
    return {
        "overall": round(sum(held[s] for s in per) / total_work, 3) if total_work else 0.0,
        "by_staff": per,
    }


def patient_weeks(data: dict[str, Any], week: date) -> dict[str, dict[str, float]]:
    """Each patient's scheduled week starting `week` (a Monday): clinical hours and therapy
    sessions (individual, group, family), whatever their outcome."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: {"hours": 0.0, "therapy": 0})
    for a in data["appointments"]:
        if week <= _day(a) < week + timedelta(days=7):
            for pid in a["patients"]:
                if a["session_type"] in CLINICAL:
                    out[pid]["hours"] += a["minutes"] / 60
                if a["session_type"] in THERAPY:
                    out[pid]["therapy"] += 1
    return out


def figures(data: dict[str, Any], start: date) -> dict[str, Any]:
    appointments = data["appointments"]
    weeks = sorted({_monday(_day(a)) for a in appointments})
    past = [a for a in appointments if _day(a) < start]
    outcomes = [
        (a.get("outcomes") or {}).get(pid, a["status"]) for a in past for pid in a["patients"]
    ]
    counted = [o for o in outcomes if o in OUTCOME_STATUSES]
    missed = sum(o in ("no_show", "late_cancelled") for o in counted)
    share = booked_share(data, start)
    caseload: dict[str, int] = defaultdict(int)
    for p in data["patients"]:
        caseload[p.get("primary_clinician", "")] += 1
    current = [a for a in appointments if _monday(_day(a)) == _monday(start)]
    return {
        "patients": len(data["patients"]),
        "staff": len(data["staff"]),
        "groups": len(data["groups"]),
        "appointments": len(appointments),
        "history_weeks": len([w for w in weeks if w < _monday(start)]),
        "sessions_booked_week": len(current),
        "booked_share_past_4_weeks": share["overall"],
        "booked_share_range": [min(share["by_staff"].values()), max(share["by_staff"].values())],
        "missed_share": round(missed / len(counted), 3) if counted else None,
        "cancelled_ahead_share": round(outcomes.count("cancelled") / len(outcomes), 3)
        if outcomes
        else None,
        "caseload_range": [min(caseload.values()), max(caseload.values())],
        "iop_share": round(
            sum(p["level_of_care"] == "2.1" for p in data["patients"]) / len(data["patients"]), 3
        ),
        "court_order_share": round(
            sum("court_order" in p for p in data["patients"]) / len(data["patients"]), 3
        ),
        "authorization_share": round(
            sum(bool(p.get("authorizations")) for p in data["patients"]) / len(data["patients"]),
            3,
        ),
    }
