"""The director's dashboard: the weekly series behind its charts, and this morning's lists.

Every figure comes from the reports the other doors already use — `assistant.reports`
(utilization, no-shows, unmet weekly minimums, court orders and authorizations) and the morning
exception report (`assistant.morning_report`, as `rota morning` builds it), called once per ISO
week; this module only lines them up by week and sums the rows of a week. It is `view_reports` in the permissions pack
(directors, case managers, auditors); anyone else is refused with the rule's words.

Aggregates only: the series carry counts and shares; the lists carry patient ids (the ids the
patient pages use), never a patient's name.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from assistant import morning_report, reports
from assistant.access import authorize
from assistant.usecases import records
from clinic import access_log
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import day_bounds
from clinic.tokens import Caller
from clinic.versions import read_versions
from rules.service import RulesService, default_service

WEEK_CHOICES = (4, 8, 12)
"""How many weeks the dashboard may show, the current week last."""
SOURCES = ("level_of_care", "treatment_plan", "court_order")
"""Where a weekly minimum comes from (assistant.reports.unmet_requirements' `source`)."""


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    weeks: int = 8


@dataclass(frozen=True)
class WeekFigures:
    """One ISO week (Monday `monday`, in the facility's zone) as the reports see it."""

    monday: date
    utilization: reports.Utilization
    no_shows: reports.NoShows
    short: dict[str, int]
    """Sessions missing against weekly minimums, by source of the minimum."""
    cancelled_not_rebooked: int
    patients_short: int

    # Shares of available time (0..1), as the reports round them. Booked = billable (someone
    # attended) + non-billable (no-show, or not marked yet) + ahead (still to come).
    @property
    def clinician_billable(self) -> float | None:
        u = self.utilization
        return _share(u.billable_minutes, u.available_minutes)

    @property
    def clinician_non_billable(self) -> float | None:
        u = self.utilization
        missed = u.booked_minutes - u.billable_minutes - u.ahead_minutes
        return _share(missed, u.available_minutes)

    @property
    def clinician_ahead(self) -> float | None:
        u = self.utilization
        return _share(u.ahead_minutes, u.available_minutes)

    @property
    def room_billable(self) -> float | None:
        u = self.utilization
        return _share(u.room_billable_minutes, u.room_available_minutes)


@dataclass(frozen=True)
class DashboardData:
    day: date
    weeks: list[WeekFigures]
    court: list[dict[str, Any]]
    """This week's court-ordered minimums, each with sessions scheduled and attended."""
    authorizations: list[dict[str, Any]]
    """Authorizations at the pack's warning thresholds (units or days running out)."""
    morning: dict[str, Any]
    """The morning exception report (without the morning plan's open demand: see Approvals);
    its `names` name no patient the report lists (they appear by id)."""


def week_count(text: str | int | None) -> int:
    """The weeks a person asked for; the dashboard's choices only."""
    if text in (None, ""):
        return 8
    try:
        weeks = int(str(text))
    except ValueError:
        weeks = 0
    if weeks not in WEEK_CHOICES:
        choices = ", ".join(str(n) for n in WEEK_CHOICES)
        raise InvalidInput(f"weeks: choose one of {choices} (you sent {text!r})")
    return weeks


def dashboard(db: Database, caller: Caller, cmd: Dashboard) -> DashboardData:
    authorize(db, caller, "view_reports")
    week_count(cmd.weeks)
    tz = db.facility_tz()
    today = cmd.now.astimezone(tz).date()
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(days=7 * n) for n in range(cmd.weeks - 1, -1, -1)]
    span_end = day_bounds(this_monday + timedelta(days=7), tz)[0]
    service = default_service()
    with db.read() as session:
        # Who counts as a clinician is worked out once for the longest span the dashboard
        # shows (the rules' slowest reading), and every week's utilization counts those people.
        longest = day_bounds(this_monday - timedelta(days=7 * (max(WEEK_CHOICES) - 1)), tz)[0]
        staff_ids = _clinicians(db, session, longest, span_end, service)
        # A week that has ended keeps its figures until something is written (any audit event).
        key = (read_versions(db, session).newest, this_monday, id(service.packs))
        with _LOCK:
            kept = _PAST.get(db.key)
        past = dict(kept[1]) if kept is not None and kept[0] == key else {}
        todo = [m for m in mondays if m not in past]
        # The weekly minimums of the weeks to read, in one reading (it loads every plan).
        unmet: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if todo:
            for row in reports.unmet_requirements(session, day_bounds(todo[0], tz)[0], span_end):
                unmet[row["week"]].append(row)
        for monday in todo:
            start = day_bounds(monday, tz)[0]
            end = day_bounds(monday + timedelta(days=7), tz)[0]
            used = reports.utilization(
                session,
                start,
                end,
                cmd.now,
                service=service,
                staff_ids=staff_ids,
                with_unmet=False,
            )
            used.unmet = unmet[monday.isoformat()]
            missed = reports.no_shows(session, start, end, cmd.now)
            past[monday] = _week(monday, used, missed)
        weeks = [past[m] for m in mondays]
        with _LOCK:
            _PAST[db.key] = (key, {m: w for m, w in past.items() if m < this_monday})
        checks = reports.compliance(session, cmd.now, service=service)
    # The morning report as `rota morning` builds it, on the court and authorization figures
    # just read (the open demand of the morning plan is shown with the plan, on Approvals).
    report = morning_report.build(db, cmd.now, service=service, checks=checks)
    patients = morning_report.patients_in(report)
    report["names"] = {k: v for k, v in records.names(db).items() if k not in patients}
    shown = [*checks.patients(), *sorted(patients)]
    access_log.record_reads(
        db, caller, access_log.REPORT_VIEW, shown, detail={"report": "dashboard"}
    )
    return DashboardData(
        day=today,
        weeks=weeks,
        court=checks.court,
        authorizations=checks.authorizations,
        morning=report,
    )


_CLINICIANS: dict[str, tuple[tuple[Any, ...], set[str]]] = {}
_PAST: dict[str, tuple[tuple[Any, ...], dict[date, WeekFigures]]] = {}
_LOCK = threading.Lock()


def _clinicians(
    db: Database, session: Session, start: datetime, end: datetime, service: RulesService
) -> set[str]:
    """`reports.clinicians` of the span, kept until people or rules change: who is qualified
    moves only with events that change the facility's version (clinic.versions), and reading
    it loads the whole facility, the dashboard's slowest step."""
    key = (read_versions(db, session).facility, start, end, id(service.packs))
    with _LOCK:
        kept = _CLINICIANS.get(db.key)
    if kept is not None and kept[0] == key:
        return kept[1]
    found = reports.clinicians(session, start, end, service)
    with _LOCK:
        _CLINICIANS[db.key] = (key, found)
    return found


def _week(monday: date, used: reports.Utilization, missed: reports.NoShows) -> WeekFigures:
    short: dict[str, int] = defaultdict(int)
    dropped = 0
    for row in used.unmet:
        short[row["source"]] += row["missing"]
        dropped += row["cancelled_not_rebooked"]
    return WeekFigures(
        monday=monday,
        utilization=used,
        no_shows=missed,
        short={source: short.get(source, 0) for source in SOURCES}
        | {k: v for k, v in short.items() if k not in SOURCES},
        cancelled_not_rebooked=dropped,
        patients_short=len({row["patient"] for row in used.unmet}),
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
