"""Sick-call proposals in words (the use cases are in assistant.usecases.absences), and what an
emergency admission could bump to be seen sooner."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from assistant.problem_builder import build_problem
from assistant.usecases import absences
from clinic.db import Database
from solver.model import SlotRequest
from solver.repair import emergency


def describe(proposal: dict[str, Any], names: dict[str, str], tz: ZoneInfo) -> str:
    staff = names.get(proposal["staff"], proposal["staff"])
    start = datetime.fromisoformat(proposal["start"]).astimezone(tz)
    end = datetime.fromisoformat(proposal["end"]).astimezone(tz)
    until = "the end of the day" if end.time() == end.min.time() else f"{end:%a %H:%M}"
    span = f"from {start:%a %d %b %H:%M} until {until}"
    if not proposal["affected"]:
        return f"{staff} is out {span}: no appointments are affected."
    lines = [f"{staff} is out {span}: {proposal['affected']} appointment(s) affected."]
    for move in proposal["moves"]:
        b, a = move["before"], move["after"]
        when_b = datetime.fromisoformat(b["start"]).astimezone(tz)
        when_a = datetime.fromisoformat(a["start"]).astimezone(tz)
        who = ", ".join(names.get(p, p) for p in b["patients"][:2]) or b.get("group") or ""
        covering = ", ".join(names.get(s, s) for s in a["staff"])
        same_time = when_a == when_b
        lines.append(
            f"- {when_b:%a %H:%M} {b['session_type'].replace('_', ' ')} ({who}): "
            + (
                f"{covering} covers at the same time"
                if same_time
                else f"moves to {when_a:%a %d %b %H:%M} with {covering}"
            )
        )
    for item in proposal["unplaced"]:
        b = item["before"]
        when_b = datetime.fromisoformat(b["start"]).astimezone(tz)
        who = ", ".join(names.get(p, p) for p in b["patients"][:2])
        lines.append(f"- {when_b:%a %H:%M} ({who}): no cover found ({item['reason']})")
    return "\n".join(lines)


def emergency_bumps(
    db: Database, patient: str, session_type: str, start: datetime, end: datetime, now: datetime
) -> list[str]:
    """Which lower-priority appointments could move to make room sooner, and what that costs."""
    with db.read() as session:
        built = build_problem(session, start, end)
    clock = built.clock
    answer = emergency(
        built.problem,
        SlotRequest(
            patients=(patient,),
            session_type=session_type,
            window=(clock.minutes(start), clock.minutes(end)),
        ),
        k=1,
        now=clock.minutes(now),
        settings=absences.interactive_settings(),
    )
    tz = clock.tz
    lines = []
    for option, bumps, cost in answer.with_bumps[:2]:
        when = clock.moment(option.start).astimezone(tz)
        moved = "; ".join(
            f"{b.appointment.id} ({clock.moment(b.appointment.start).astimezone(tz):%H:%M}"
            + (f" → {clock.moment(b.moved_to.start).astimezone(tz):%a %H:%M}" if b.moved_to else "")
            + ")"
            for b in bumps
        )
        lines.append(
            f"{when:%a %H:%M} with {', '.join(option.staff)} if we move {moved} (cost {cost})"
        )
    return lines
