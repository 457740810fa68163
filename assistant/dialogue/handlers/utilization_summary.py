"""utilization_summary: booked vs available time, attendance and unmet requirements; or,
when the metric asked for is the no-show rate, the no-show summary."""

from __future__ import annotations

from datetime import datetime, timedelta

from assistant import reports
from assistant.access import authorize
from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame
from assistant.dialogue.turn import Turn
from assistant.llm.summary import summarize
from clinic.timeutil import day_bounds


def utilization(turn: Turn, frame: Frame) -> Reply:
    authorize(turn.db, turn.caller, "utilization_summary")
    today = turn.now.astimezone(turn.tz).date()
    monday = today - timedelta(days=today.weekday() + 7)  # default: last week
    last_week = (
        day_bounds(monday, turn.tz)[0],
        day_bounds(monday + timedelta(days=7), turn.tz)[0],
    )
    start, end = turn.asked_period(frame, last_week)
    if frame.get("metric") == "no_show_rate":
        return _no_shows(turn, start, end)
    with turn.db.read() as session:
        u = reports.utilization(session, start, end, turn.now)
    missing = sum(r["missing"] for r in u.unmet)
    lines = wording.utilization(u, wording.span(start, end, turn.tz), missing, turn.names())
    data = {
        "staff_utilization": u.staff_utilization,
        "room_utilization": u.room_utilization,
        "attendance_rate": u.attendance_rate,
        "no_show_rate": u.no_show_rate,
        "sessions_held": u.sessions_held,
        "unmet_sessions": missing,
    }
    prose = summarize(data, roster=turn.facts.roster(), gateway=turn.facts.gateway())
    if prose:  # optional polish of the aggregates; the figures above stay as computed
        lines.append(prose)
    return turn.reply("\n".join(lines), options=[{"metrics": data}])


def _no_shows(turn: Turn, start: datetime, end: datetime) -> Reply:
    """ "summarize no-shows this month": the missed sessions, not the utilization summary."""
    with turn.db.read() as session:
        n = reports.no_shows(session, start, end, turn.now)
    lines = wording.no_shows(n, wording.span(start, end, turn.tz), turn.names())
    data = {
        "no_show_rate": n.rate,
        "no_shows": n.no_shows,
        "attended": n.attended,
        "late_cancellations": n.late_cancellations,
        "previous_no_show_rate": n.previous_rate,
    }
    return turn.reply("\n".join(lines), options=[{"metrics": data}])
