"""End of day: at the facility's closing time, each clinician with sessions that started today
and are still unmarked gets their list as a Slack DM (once per clinician and day).

The list is the attendance use case's own (`attendance.unmarked`, asked as the clinician, so it
holds only their sessions); the DM goes through the one outbox (channel "slack", under
`job:end-of-day:<local day>:<staff>:0`), which the Slack door sends from.
Clinicians not on Slack are counted in the summary (the next morning's report lists what is
still unmarked).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from assistant import callers, outbox
from assistant.access import may
from assistant.jobs import job
from assistant.roster import read_roster
from assistant.usecases import attendance
from clinic.booking import AppointmentView
from clinic.db import Database
from clinic.errors import NotFound, PermissionDenied
from clinic.queries import appointments_between
from clinic.timeutil import day_bounds, now_utc
from clinic.tokens import Caller

NAME = "end-of-day"
PREVIEW = "Rota: sessions still to mark today."
"""The notification text (lock screens show it): no patient detail."""


@job(NAME, daily_at="close")
def end_of_day(db: Database, now: datetime) -> dict[str, Any]:
    """Each clinician's unmarked sessions of the day, as a Slack DM at closing time."""
    tz = db.facility_tz()
    day = now.astimezone(tz).date()
    lists: dict[str, tuple[Caller, list[AppointmentView]]] = {}
    for staff_id in _staff_with_sessions(db, day):
        try:
            caller = callers.for_staff(db, staff_id, "job")
            rows = attendance.unmarked(
                db, caller, attendance.Unmarked(day=day, now=now, staff=staff_id)
            )
        except (NotFound, PermissionDenied):
            continue  # not one who marks attendance (or no longer on the staff list)
        if rows:
            lists[staff_id] = (caller, rows)
    slack = callers.slack_users(db, sorted(lists))
    names = _names(db)
    queued = already = 0
    for staff_id, (caller, rows) in lists.items():
        user = slack.get(staff_id)
        if not user:
            continue
        message = _message(user, caller, day, rows, names, tz)
        with db.session() as session:
            fresh = outbox.owe_slack(
                session, f"job:{NAME}:{day.isoformat()}:{staff_id}", [message], now_utc()
            )
        if fresh:
            queued += 1
        else:
            already += 1
    return {
        "day": day.isoformat(),
        "clinicians": len(lists),
        "sessions": sum(len(rows) for _, rows in lists.values()),
        "dms_queued": queued,
        "dms_already_queued": already,
        "not_on_slack": sorted(s for s in lists if s not in slack),
    }


def _staff_with_sessions(db: Database, day: date) -> list[str]:
    start, end = day_bounds(day, db.facility_tz())
    with db.read() as session:
        rows = appointments_between(session, start, end, include_cancelled=False)
    return sorted({s for row in rows for s in row.staff})


def _names(db: Database) -> dict[str, str]:
    roster = read_roster(db)
    return {e.id: e.name for group in (roster.patients, roster.rooms) for e in group}


def _message(
    user: str,
    caller: Caller,
    day: date,
    rows: list[AppointmentView],
    names: dict[str, str],
    tz: Any,
) -> outbox.SlackMessage:
    """The clinician's own sessions: time, kind (if their role sees clinical detail), who."""
    clinical = may(caller, "see_clinical_detail")
    lines = [f"*{len(rows)} session(s) today ({day:%a %d %b}) still have no attendance:*"]
    for row in rows:
        kind = row.session_type.replace("_", " ") if clinical else "session"
        who = (
            f"group ({len(row.patients)})"
            if row.group
            else ", ".join(names.get(p, p) for p in row.patients)
        )
        lines.append(f"• {row.start.astimezone(tz):%H:%M} {kind}: {who}")
    lines.append('Reply e.g. "all my sessions today were attended except …" to mark them.')
    text = "\n".join(lines)
    payload = {
        "text": PREVIEW,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}],
    }
    audit = {
        "recipient": caller.staff_id,
        "channel_type": "im",
        "patients": sorted({p for row in rows for p in row.patients}),
        "appointments": sorted(row.id for row in rows),
    }
    return outbox.SlackMessage(
        "chat.postMessage", user, None, payload, audit, template="end_of_day"
    )
