"""A CSV export read into rows of plain values (`assistant.usecases.imports.ImportRows`).

Only the file's shape is judged here: which column is which, and whether each value reads as a
date (MM/DD/YYYY, or YYYY-MM-DD), a time (12-hour '9:00 AM', or 24-hour '14:30'), a duration
('50', '50 min', '1 hr 30 min') or a sex. Names are matched against the roster by the use case.
Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from assistant.usecases.imports import AppointmentRow, ClientRow, ImportRows, RowProblem
from clinic.errors import InvalidInput
from integrations.csv_import.formats import FORMATS, IMPORTED_STATUSES, KINDS, LAYOUTS, Layout

_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})$")
_TIME_12 = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::\d{2})?\s*([ap])\.?\s*m\.?$", re.IGNORECASE)
_TIME_24 = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
_DURATION = re.compile(
    r"^(?:(\d+)\s*(?:h|hr|hrs|hour|hours))?\s*(?:(\d+)\s*(?:m|min|mins|minutes)?)?$",
    re.IGNORECASE,
)
_SEX = {
    "m": "male", "male": "male", "f": "female", "female": "female",
    "other": "other", "x": "other", "nonbinary": "other", "non-binary": "other",
    "unknown": "unknown", "u": "unknown", "declined": "unknown",
    "prefer not to say": "unknown",
}  # fmt: skip


@dataclass(frozen=True)
class ReadFile:
    rows: ImportRows
    ignored: tuple[str, ...]
    """The file's columns that no field reads."""


class _Bad(Exception):
    def __init__(self, field: str, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.field, self.problem, self.fix = field, problem, fix


def read_csv(path: Path, kind: str, fmt: str, *, dry_run: bool = False) -> ReadFile:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InvalidInput(f"no file {str(path)!r}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text: save it as CSV UTF-8") from exc
    return read_text(text, kind, fmt, source=path.name, dry_run=dry_run)


def read_text(text: str, kind: str, fmt: str, *, source: str, dry_run: bool) -> ReadFile:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    layout = LAYOUTS[(fmt, kind)]
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = [h for h in (reader.fieldnames or []) if h is not None]
    if not headers:
        raise InvalidInput(f"{source} is empty: the first row must name the columns")
    columns = _columns(layout, headers)
    _require(layout, columns, fmt, kind)
    ignored = tuple(h for h in headers if h.strip() and h not in columns.values())
    clients: list[ClientRow] = []
    appointments: list[AppointmentRow] = []
    problems: list[RowProblem] = []
    skipped: list[tuple[int, str]] = []
    for number, record in enumerate(reader, start=2):
        values = {f: (record.get(h) or "").strip() for f, h in columns.items()}
        if not any(values.values()):
            continue  # a blank line
        try:
            if kind == "clients":
                clients.append(_client(number, values))
            else:
                status = values.get("status", "").casefold()
                if status not in IMPORTED_STATUSES:
                    skipped.append(
                        (number, f"status {values['status']!r}: only sessions still to come")
                    )
                    continue
                appointments.append(_appointment(number, values))
        except _Bad as bad:
            problems.append(RowProblem(number, columns.get(bad.field, ""), bad.problem, bad.fix))
    rows = ImportRows(
        kind=kind,
        source=source,
        columns=columns,
        clients=tuple(clients),
        appointments=tuple(appointments),
        problems=tuple(problems),
        skipped=tuple(skipped),
        dry_run=dry_run,
    )
    return ReadFile(rows, ignored)


def _norm(header: str) -> str:
    return " ".join(header.split()).casefold()


def _columns(layout: Layout, headers: list[str]) -> dict[str, str]:
    by_norm = {_norm(h): h for h in headers}
    out = {}
    for field, names in layout.columns.items():
        for name in names:
            if _norm(name) in by_norm and by_norm[_norm(name)] not in out.values():
                out[field] = by_norm[_norm(name)]
                break
    return out


def _require(layout: Layout, columns: dict[str, str], fmt: str, kind: str) -> None:
    missing = [
        " or ".join(repr(layout.columns[f][0]) for f in group)
        for group in layout.required
        if not any(f in columns for f in group)
    ]
    if missing:
        raise InvalidInput(
            f"a {fmt}-style {kind} file needs the column(s) {', '.join(missing)} "
            "(see README, 'CSV imports', for the names accepted)"
        )


# -- one row ------------------------------------------------------------------------------------


def _client(number: int, v: dict[str, str]) -> ClientRow:
    name = v.get("name", "")
    if not name:
        name = " ".join(
            x for x in (v.get("first_name"), v.get("middle_name"), v.get("last_name")) if x
        )
    elif "," in name:  # 'Last, First'
        last, _, first = name.partition(",")
        name = f"{first.strip()} {last.strip()}"
    if not name:
        raise _Bad(
            "last_name" if "name" not in v else "name", "no name", "fill in the client's name"
        )
    sex = None
    if v.get("sex"):
        sex = _SEX.get(v["sex"].casefold())
        if sex is None:
            raise _Bad(
                "sex", f"{v['sex']!r} is not a sex Rota records", "use F, M, Other or Unknown"
            )
    return ClientRow(
        row=number,
        name=name,
        dob=_date("dob", v["dob"], four_digit_year=True) if v.get("dob") else None,
        sex=sex,
        phone=v.get("phone") or None,
        email=v.get("email") or None,
        clinician=v.get("clinician") or None,
        external_id=v.get("external_id") or None,
    )


def _appointment(number: int, v: dict[str, str]) -> AppointmentRow:
    for field, what in (("day", "date"), ("start", "start time"), ("clinician", "clinician")):
        if not v.get(field):
            raise _Bad(field, f"no {what}", f"fill in the {what}")
    if not v.get("session_type"):
        raise _Bad("session_type", "no service", "fill in the session type (service)")
    if not (v.get("patient") or v.get("patient_id")):
        raise _Bad("patient", "no client", "fill in the client's name")
    start = _time("start", v["start"])
    minutes = None
    if v.get("duration"):
        minutes = _duration(v["duration"])
    elif v.get("end"):
        minutes = _time("end", v["end"]) - start
        if minutes <= 0:
            raise _Bad("end", "the session ends before it starts", "correct the end time")
    return AppointmentRow(
        row=number,
        day=_date("day", v["day"]),
        start=start,
        patient=v.get("patient", ""),
        patient_id=v.get("patient_id") or None,
        clinician=v["clinician"],
        session_type=v["session_type"],
        minutes=minutes,
        room=v.get("room") or None,
    )


def _date(field: str, text: str, *, four_digit_year: bool = False) -> date:
    match = _US_DATE.match(text)
    try:
        if match:
            month, day, year = (int(x) for x in match.groups())
            if year < 100:
                if four_digit_year:
                    raise _Bad(field, f"{text!r} has a two-digit year", "write the year in full")
                year += 2000
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise _Bad(field, f"{text!r} is not a date", "write it as MM/DD/YYYY") from None


def _time(field: str, text: str) -> int:
    """Minutes after midnight."""
    if match := _TIME_12.match(text):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if 1 <= hour <= 12 and minute < 60:
            return (hour % 12 + (12 if match.group(3).lower() == "p" else 0)) * 60 + minute
    elif match := _TIME_24.match(text):
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return hour * 60 + minute
    raise _Bad(field, f"{text!r} is not a time", "write it as 9:00 AM (or 14:30)")


def _duration(text: str) -> int:
    match = _DURATION.match(text.strip())
    if match and any(match.groups()):
        minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
        if minutes > 0:
            return minutes
    raise _Bad("duration", f"{text!r} is not a duration", "write the minutes, e.g. 50")
