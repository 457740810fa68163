"""The director's dashboard, server side: its tables and CSVs carry the reports' own figures,
aggregates and patient ids only, and only for the roles the permissions pack lets see reports."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Callable
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from litestar import Litestar
from litestar.exceptions import LitestarDeprecationWarning
from litestar.testing import TestClient
from sqlalchemy import select

from assistant import callers, reports
from assistant.usecases import attendance
from assistant.usecases.dashboard import Dashboard, dashboard
from clinic.db import Database
from clinic.models import Appointment, Patient
from clinic.timeutil import day_bounds
from integrations.http.app import create_app
from integrations.web.dashboard import TABLES
from tests.web.conftest import DEMO_NOW, NY

Client = Callable[[str], TestClient[Litestar]]
DIRECTOR, THERAPIST, FRONT_DESK = "s001", "c003", "s004"
HISTORY_WEEK = date(2026, 11, 16)  # the demo's first week of held sessions


class Tables(HTMLParser):
    """Every <table id=…> of a page: its caption, column headers and rows of cell values
    (the `data-value` each cell carries, which is also what it shows)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list]] = {}
        self._table: dict[str, list] | None = None
        self._row: list[str] | None = None
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = self.tables.setdefault(
                str(a["id"]), {"caption": [], "columns": [], "rows": [], "scopes": []}
            )
        elif self._table is None:
            return
        elif tag == "caption":
            self._in = "caption"
        elif tag == "tr":
            self._row = []
        elif tag == "th" and a.get("scope") == "col":
            self._in = "col"
            self._table["scopes"].append("col")
        elif tag in ("th", "td") and self._row is not None:
            if tag == "th":
                self._table["scopes"].append(a.get("scope") or "")
            self._row.append(a.get("data-value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("caption", "th"):
            self._in = None
        elif tag == "tr" and self._table is not None and self._row:
            self._table["rows"].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._table is not None and self._in == "caption":
            self._table["caption"].append(data.strip())
        elif self._table is not None and self._in == "col":
            self._table["columns"].append(data.strip())


def _pct(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}"


def _week_row(table: dict[str, list], monday: date) -> list[str]:
    (row,) = [r for r in table["rows"] if r[0] == monday.isoformat()]
    return row


def _the_week(db: Database, monday: date) -> tuple[reports.Utilization, reports.NoShows]:
    tz = db.facility_tz()
    start, end = day_bounds(monday, tz)[0], day_bounds(monday + timedelta(days=7), tz)[0]
    with db.read() as session:
        return (
            reports.utilization(session, start, end, DEMO_NOW),
            reports.no_shows(session, start, end, DEMO_NOW),
        )


def test_the_tables_show_the_reports_own_figures_for_a_week(
    signed_in_client: Client, demo_db: Database
) -> None:
    page = signed_in_client(DIRECTOR).get("/dashboard?weeks=4")
    assert page.status_code == 200
    assert "<title>Dashboard — Rota</title>" in page.text
    tables = Tables(page.text).tables
    used, missed = _the_week(demo_db, HISTORY_WEEK)

    clinicians = tables["t-clinicians"]
    assert clinicians["caption"] and clinicians["columns"][0] == "Week of"
    assert [r[0] for r in clinicians["rows"]] == [
        (date(2026, 11, 30) - timedelta(days=7 * n)).isoformat() for n in (3, 2, 1, 0)
    ]
    row = _week_row(clinicians, HISTORY_WEEK)
    assert row[1] == _pct(used.staff_utilization) == "14.6"
    assert row[2] == _pct(used.billable_minutes / used.available_minutes)
    assert row[5:8] == [
        str(used.booked_minutes),
        str(used.billable_minutes),
        str(used.available_minutes),
    ]
    # Booked = billable + non-billable + ahead (a past week has nothing ahead).
    assert float(row[1]) == pytest.approx(float(row[2]) + float(row[3]), abs=0.11)
    assert row[4] == "0.0"

    rooms = _week_row(tables["t-rooms"], HISTORY_WEEK)
    assert rooms[1] == _pct(used.room_utilization)

    attendance = _week_row(tables["t-attendance"], HISTORY_WEEK)
    assert attendance[1:] == [
        _pct(used.attendance_rate),
        _pct(missed.rate),
        str(missed.attended),
        str(missed.no_shows),
        str(missed.late_cancellations),
        str(used.sessions_held),
    ]
    assert attendance[4] != "0"  # the demo's history has no-shows: the figures are real ones

    short = _week_row(tables["t-requirements"], HISTORY_WEEK)
    by_source = {
        s: sum(r["missing"] for r in used.unmet if r["source"] == s)
        for s in ("level_of_care", "treatment_plan", "court_order")
    }
    assert short[1:4] == [str(by_source[s]) for s in by_source]
    assert short[5] == str(len({r["patient"] for r in used.unmet}))

    with demo_db.read() as session:
        checks = reports.compliance(session, DEMO_NOW)
    assert [r[2] for r in tables["t-authorizations"]["rows"]] == [
        a["authorization"] for a in checks.authorizations
    ]
    assert len(tables["t-court"]["rows"]) == len(checks.court)
    # Every header cell has a scope: columns, and each row's first cell.
    for table in tables.values():
        assert table["scopes"] and all(s in ("col", "row") for s in table["scopes"])


def test_each_table_downloads_as_csv_with_the_same_rows(signed_in_client: Client) -> None:
    client = signed_in_client(DIRECTOR)
    tables = Tables(client.get("/dashboard?weeks=8").text).tables
    answer = client.get("/dashboard/attendance.csv?weeks=8")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert (
        answer.headers["content-disposition"]
        == 'attachment; filename="rota-attendance-8-weeks-2026-11-30.csv"'
    )
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == [
        "Week of",
        "Attendance rate (%)",
        "No-show rate (%)",
        "Attended",
        "No-shows",
        "Late cancellations",
        "Sessions held",
    ]
    assert rows[1:] == tables["t-attendance"]["rows"] and len(rows) == 9
    for key in TABLES:
        got = list(csv.reader(io.StringIO(client.get(f"/dashboard/{key}.csv?weeks=8").text)))
        assert got[0] == tables[f"t-{key}"]["columns"] and got[1:] == tables[f"t-{key}"]["rows"]


def test_no_patient_name_in_the_page_or_any_csv(
    signed_in_client: Client, demo_db: Database
) -> None:
    client = signed_in_client(DIRECTOR)
    with demo_db.read() as session:
        names = list(session.scalars(select(Patient.name)))
    texts = [client.get("/dashboard?weeks=12").text]
    texts += [client.get(f"/dashboard/{key}.csv?weeks=12").text for key in TABLES]
    assert "p0039" in texts[0]  # patients appear, by id (an authorization running out)
    for text in texts:
        assert not [n for n in names if n in text]


def test_a_therapist_and_the_front_desk_are_refused_in_plain_words(
    signed_in_client: Client,
) -> None:
    for staff in (THERAPIST, FRONT_DESK):
        client = signed_in_client(staff)
        page = client.get("/dashboard")
        assert page.status_code == 403
        assert "may not see utilization and compliance reports" in page.text
        assert "Traceback" not in page.text
        assert client.get("/dashboard/clinicians.csv").status_code == 403
        board = client.get("/dashboard", headers={"HX-Request": "true"})
        assert board.status_code == 403


def test_a_wrong_week_count_or_download_is_explained(signed_in_client: Client) -> None:
    client = signed_in_client(DIRECTOR)
    wrong = client.get("/dashboard?weeks=5")
    assert wrong.status_code == 400 and "choose one of 4, 8, 12" in wrong.text
    missing = client.get("/dashboard/patients.csv")
    assert missing.status_code == 404 and "clinicians.csv" in missing.text


def test_signed_out_visitors_are_sent_to_sign_in(web_app: Litestar) -> None:
    with TestClient(web_app) as client:
        answer = client.get("/dashboard?weeks=4", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin?next=/dashboard")


def test_billable_time_is_the_sessions_someone_attended(demo_db: Database) -> None:
    used, _ = _the_week(demo_db, HISTORY_WEEK)
    clinicians = {r["staff"] for r in used.by_staff}
    with demo_db.read() as session:
        held = [
            a
            for a in session.scalars(
                select(Appointment).where(
                    Appointment.start >= used.start, Appointment.start < used.end
                )
            )
            if any(a.outcome_of(p) == "attended" for p in a.patient_ids)
        ]
        minutes = sum(
            int((a.end - a.start).total_seconds() // 60) * len(set(a.staff_ids) & clinicians)
            for a in held
        )
    assert 0 < used.billable_minutes == minutes < used.booked_minutes  # no-shows are not billed
    assert used.ahead_minutes == 0
    this_week, _ = _the_week(demo_db, date(2026, 11, 30))  # Monday 10:00: nothing held yet
    assert this_week.billable_minutes == 0 and this_week.ahead_minutes > 0
    assert this_week.ahead_minutes <= this_week.booked_minutes


def test_a_past_week_shows_a_session_marked_after_it_ended(
    demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    """Ended weeks are kept between requests: until the next write, and no longer."""
    later = datetime(2026, 12, 7, 10, tzinfo=NY)  # the demo's first week has ended
    set_now(later)
    director = callers.for_staff(demo_db, DIRECTOR)
    ask = Dashboard(now=later, weeks=4)
    before = dashboard(demo_db, director, ask).weeks[-2]
    assert before.monday == date(2026, 11, 30) and before.utilization.billable_minutes == 0
    with demo_db.read() as session:
        first = session.scalars(
            select(Appointment)
            .where(Appointment.start >= before.utilization.start, Appointment.status == "booked")
            .order_by(Appointment.start)
        ).first()
        assert first is not None
        session_id, minutes = first.id, int((first.end - first.start).total_seconds() // 60)
        staff = len(first.staff_ids)
    attendance.mark(demo_db, director, attendance.Mark(session_id, "attended"))
    after = dashboard(demo_db, director, ask).weeks[-2]
    assert after.utilization.billable_minutes == minutes * staff


def test_the_app_declares_its_parameters_in_the_style_litestar_keeps(demo_db: Database) -> None:
    """Every handler's parameters declared as Litestar asks (`FromPath[...]`, not a bare
    `name: str` it infers): the inferred style is deprecated and goes in a later Litestar."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        create_app(demo_db)
    deprecated = [
        str(w.message) for w in seen if issubclass(w.category, LitestarDeprecationWarning)
    ]
    assert deprecated == []
