"""The director's dashboard page: the weeks' charts, each with its numbers as a table and a CSV.

The figures are `assistant.usecases.dashboard`'s; this module only lays them out as tables (one
per chart: the page's <table>, the chart's data and the CSV are the same rows, so they cannot
disagree) and answers /dashboard and /dashboard/<table>.csv. Aggregates and patient ids only,
never a patient's name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from assistant import morning_report
from assistant.usecases import dashboard as usecase
from assistant.usecases.dashboard import DashboardData, WeekFigures
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.timeutil import now_utc
from integrations.web.render import page
from integrations.web.session import Visitor

Value = int | float | str | None


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "count"
    """count | share (0..1, shown as a percentage) | text | week (an ISO Monday)"""
    plot: bool = False
    """Drawn in the chart (a table without plotted columns has no chart)."""


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    caption: str
    columns: tuple[Column, ...]
    rows: list[tuple[Value, ...]]
    empty: str = "Nothing to show."
    unit: str = ""
    """The chart's y axis: '%' for shares, else what is counted."""

    @property
    def charted(self) -> bool:
        return any(c.plot for c in self.columns)


def cell(value: Value, column: Column) -> str:
    """A value as the table and the CSV show it (shares as percentages, one decimal)."""
    if value is None:
        return ""
    if column.kind == "share":
        return f"{float(value) * 100:.1f}"
    return str(value)


# --- the tables -----------------------------------------------------------------------------


def _week_label(w: WeekFigures) -> str:
    return w.monday.isoformat()


def clinicians(data: DashboardData) -> Table:
    return Table(
        key="clinicians",
        title="Clinician utilization by week",
        caption="Clinicians' booked time as a share of their available hours, by week "
        "(billable: someone attended; non-billable: no-show or not marked; ahead: still to come)",
        unit="%",
        columns=(
            Column("Week of", "week"),
            Column("Booked (%)", "share", plot=True),
            Column("Billable (%)", "share", plot=True),
            Column("Non-billable (%)", "share", plot=True),
            Column("Still ahead (%)", "share"),
            Column("Booked minutes"),
            Column("Billable minutes"),
            Column("Available minutes"),
        ),
        rows=[
            (
                _week_label(w),
                w.utilization.staff_utilization,
                w.clinician_billable,
                w.clinician_non_billable,
                w.clinician_ahead,
                w.utilization.booked_minutes,
                w.utilization.billable_minutes,
                w.utilization.available_minutes,
            )
            for w in data.weeks
        ],
    )


def rooms(data: DashboardData) -> Table:
    return Table(
        key="rooms",
        title="Room utilization by week",
        caption="Rooms' booked time as a share of their open hours, by week "
        "(billable: a session someone attended)",
        unit="%",
        columns=(
            Column("Week of", "week"),
            Column("Booked (%)", "share", plot=True),
            Column("Billable (%)", "share", plot=True),
            Column("Booked room-minutes"),
            Column("Billable room-minutes"),
            Column("Open room-minutes"),
        ),
        rows=[
            (
                _week_label(w),
                w.utilization.room_utilization,
                w.room_billable,
                w.utilization.room_booked_minutes,
                w.utilization.room_billable_minutes,
                w.utilization.room_available_minutes,
            )
            for w in data.weeks
        ],
    )


def attendance(data: DashboardData) -> Table:
    return Table(
        key="attendance",
        title="Attendance and no-shows by week",
        caption="Attendance rate (attended of all recorded outcomes) and no-show rate "
        "(no-shows of attended plus no-shows), by week; a blank is a week with nothing recorded",
        unit="%",
        columns=(
            Column("Week of", "week"),
            Column("Attendance rate (%)", "share", plot=True),
            Column("No-show rate (%)", "share", plot=True),
            Column("Attended"),
            Column("No-shows"),
            Column("Late cancellations"),
            Column("Sessions held"),
        ),
        rows=[
            (
                _week_label(w),
                w.utilization.attendance_rate,
                w.no_shows.rate,
                w.no_shows.attended,
                w.no_shows.no_shows,
                w.no_shows.late_cancellations,
                w.utilization.sessions_held,
            )
            for w in data.weeks
        ],
    )


def requirements(data: DashboardData) -> Table:
    return Table(
        key="requirements",
        title="Required sessions not delivered, by week",
        caption="Sessions missing against each patient's weekly minimums, by where the minimum "
        "comes from (level of care, treatment plan, court order), by week",
        unit="sessions",
        columns=(
            Column("Week of", "week"),
            Column("Short of level of care", plot=True),
            Column("Short of treatment plan", plot=True),
            Column("Short of court orders", plot=True),
            Column("Cancelled, not rebooked"),
            Column("Patients short"),
        ),
        rows=[
            (
                _week_label(w),
                w.short.get("level_of_care", 0),
                w.short.get("treatment_plan", 0),
                w.short.get("court_order", 0),
                w.cancelled_not_rebooked,
                w.patients_short,
            )
            for w in data.weeks
        ],
    )


def court(data: DashboardData) -> Table:
    return Table(
        key="court",
        title="Court-ordered minimums this week",
        caption=f"Court orders in force in the week of {data.day.isoformat()}: sessions "
        "required, scheduled and attended (patients by id)",
        empty="No court order is in force this week.",
        columns=(
            Column("Patient", "text"),
            Column("Session type", "text"),
            Column("Required per week"),
            Column("Scheduled"),
            Column("Attended"),
            Column("On track", "text"),
        ),
        rows=[
            (
                r["patient"],
                r["session_type"],
                r["required"],
                r["scheduled"],
                r["attended"],
                "yes" if r["on_track"] else "no",
            )
            for r in data.court
        ],
    )


def authorizations(data: DashboardData) -> Table:
    return Table(
        key="authorizations",
        title="Authorizations running out",
        caption="Payer authorizations at the warning thresholds: units or business days "
        "running out (patients by id)",
        empty="No authorization is running out.",
        columns=(
            Column("Patient", "text"),
            Column("Payer", "text"),
            Column("Authorization", "text"),
            Column("Ends", "text"),
            Column("Units"),
            Column("Used"),
            Column("Booked"),
            Column("Left"),
            Column("Business days left"),
            Column("Why", "text"),
        ),
        rows=[
            (
                r["patient"],
                r["payer"],
                r["authorization"],
                r["end"],
                r["units"],
                r["used"],
                r["booked"],
                r["remaining"],
                r["business_days_left"],
                "; ".join(r["flags"]),
            )
            for r in data.authorizations
        ],
    )


MORNING_LEFT_OUT = ("unplaced",)
"""The morning plan's open demand is on the Approvals page, with the plan itself."""


def morning(data: DashboardData) -> Table:
    sections = data.morning["sections"]
    return Table(
        key="morning",
        title="Morning exception report",
        caption=f"What needs attention on {data.morning['day']} "
        f"({data.morning['sessions_today']} sessions today): count per section",
        columns=(Column("Section", "text"), Column("Count")),
        rows=[
            (morning_report.TITLES[key], section["count"])
            for key, section in sections.items()
            if key not in MORNING_LEFT_OUT
        ],
    )


def morning_lines(data: DashboardData) -> list[dict[str, Any]]:
    """Each section's rows in words (patients by id: `names` holds staff and rooms only)."""
    names = data.morning["names"]
    return [
        {
            "title": morning_report.TITLES[key],
            "lines": [morning_report.line(key, row, names) for row in section["rows"]],
        }
        for key, section in data.morning["sections"].items()
        if key not in MORNING_LEFT_OUT and section["rows"]
    ]


TABLES: dict[str, Callable[[DashboardData], Table]] = {
    "clinicians": clinicians,
    "rooms": rooms,
    "attendance": attendance,
    "requirements": requirements,
    "court": court,
    "authorizations": authorizations,
    "morning": morning,
}


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow([cell(v, c) for v, c in zip(row, table.columns, strict=True)])
    return out.getvalue()


# --- the pages ------------------------------------------------------------------------------


def _weeks(text: str | None) -> int:
    try:
        return usecase.week_count(text)
    except InvalidInput as exc:
        raise ClientException(detail=str(exc)) from exc


def _data(db: Database, visitor: Visitor, weeks: int) -> DashboardData:
    return usecase.dashboard(db, visitor.caller, usecase.Dashboard(now=now_utc(), weeks=weeks))


@get("/dashboard", sync_to_thread=True, include_in_schema=False)
def dashboard_page(
    visitor: NamedDependency[Visitor],
    db: NamedDependency[Database],
    weeks: FromQuery[str | None] = None,
) -> Template:
    count = _weeks(weeks)
    data = _data(db, visitor, count)
    return page(
        "dashboard.html",
        visitor,
        title="Dashboard — Rota",
        active="dashboard",
        weeks=count,
        choices=usecase.WEEK_CHOICES,
        day=data.day,
        tables=[build(data) for build in TABLES.values()],
        morning_lines=morning_lines(data),
        cell=cell,
    )


@get("/dashboard/{name:str}", sync_to_thread=True, include_in_schema=False)
def dashboard_csv(
    visitor: NamedDependency[Visitor],
    db: NamedDependency[Database],
    name: FromPath[str],
    weeks: FromQuery[str | None] = None,
) -> Response[str]:
    key = name.removesuffix(".csv")
    if not name.endswith(".csv") or key not in TABLES:
        known = ", ".join(f"{k}.csv" for k in TABLES)
        raise NotFound(f"there is no dashboard download called {name!r}; there are: {known}")
    count = _weeks(weeks)
    data = _data(db, visitor, count)
    filename = f"rota-{key}-{count}-weeks-{data.day.isoformat()}.csv"
    return Response(
        to_csv(TABLES[key](data)),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


HANDLERS = [dashboard_page, dashboard_csv]
