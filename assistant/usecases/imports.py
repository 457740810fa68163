"""Imports of client and appointment lists exported by small practice-management systems.

The door (integrations/csv_import) reads the file into rows of plain values; here each row is
matched against the roster (clinicians, session types, patients, rooms: exact, then ignoring
case, then ignoring titles, credentials and "Last, First" order) and goes through the same
use cases as any other change: `patients.admit_in` for a client, the booking service (rules
and conflicts) for an appointment, each audited.

All or nothing: every row runs in one transaction, each in a savepoint so one row's failure
does not hide the next one's; if any row fails, or on a dry run, everything is rolled back and
every failing row is reported (row, column, problem, how to fix). A half-imported export is
hard to put right (running it again would refuse, or double, what went in), so a file goes
in whole or not at all.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.access import authorize
from assistant.usecases.patients import Admit, admit_in
from assistant.wiring import booking_service
from clinic.booking import BookingRequest
from clinic.db import Database
from clinic.errors import (
    BookingConflict,
    InvalidInput,
    LikelyDuplicate,
    PermissionDenied,
    RotaError,
    RuleViolation,
)
from clinic.models import Patient, Room, SessionType, Staff
from clinic.timeutil import to_utc
from clinic.tokens import Caller

# -- commands and answers -----------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    row: int
    """The row as a spreadsheet numbers it (the header is row 1)."""
    column: str
    """The file's own column name ('' when the row as a whole is refused)."""
    problem: str
    fix: str

    def words(self) -> str:
        where = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.problem}; fix: {self.fix}"


@dataclass(frozen=True)
class ClientRow:
    row: int
    name: str
    dob: date | None = None
    sex: str | None = None
    phone: str | None = None
    email: str | None = None
    clinician: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class AppointmentRow:
    row: int
    day: date
    start: int
    """Minutes after local midnight (the facility's zone)."""
    patient: str
    clinician: str
    session_type: str
    minutes: int | None = None
    patient_id: str | None = None
    room: str | None = None


@dataclass(frozen=True)
class ImportRows:
    """A file read by the door: the rows it could read, and what it could not."""

    kind: str  # clients | appointments
    source: str
    columns: Mapping[str, str]
    """Rota's field → the file's column name (for problems that name a column)."""
    clients: tuple[ClientRow, ...] = ()
    appointments: tuple[AppointmentRow, ...] = ()
    problems: tuple[RowProblem, ...] = ()
    """Rows the door could not read (a date that is not a date)."""
    skipped: tuple[tuple[int, str], ...] = ()
    """Rows left out on purpose, with why (a cancelled appointment in the export)."""
    dry_run: bool = False


@dataclass
class ImportReport:
    kind: str
    rows: int
    imported: list[str] = field(default_factory=list)
    """The ids written (or, on a dry run or a failed run, that would have been)."""
    problems: list[RowProblem] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def written(self) -> bool:
        return not self.dry_run and not self.problems and bool(self.imported)


class _Rollback(Exception):
    """Leave the import's transaction without writing anything."""


# -- the use case -------------------------------------------------------------------------------


def import_rows(db: Database, caller: Caller, cmd: ImportRows) -> ImportReport:
    if cmd.kind not in ("clients", "appointments"):
        raise InvalidInput(f"import clients or appointments, not {cmd.kind!r}")
    rows = cmd.clients if cmd.kind == "clients" else cmd.appointments
    report = ImportReport(
        cmd.kind,
        len(rows) + len(cmd.problems) + len(cmd.skipped),
        problems=list(cmd.problems),
        skipped=list(cmd.skipped),
        dry_run=cmd.dry_run,
    )
    if cmd.kind == "clients":
        authorize(db, caller, "admit_patient")
    try:
        with db.session() as session:
            roster = Roster.read(session)
            row_of: dict[str, int] = {}  # what this file wrote so far: id → its row
            for row in rows:
                try:
                    with session.begin_nested():
                        if isinstance(row, ClientRow):
                            made = _client(db, session, caller, roster, row, cmd.columns)
                        else:
                            made = _appointment(db, session, caller, roster, row, cmd)
                    report.imported.append(made)
                    row_of[made] = row.row
                except _RowError as exc:
                    report.problems.append(_in_file_terms(exc.problem, row_of))
            if cmd.dry_run or report.problems:
                raise _Rollback
    except _Rollback:
        pass
    report.problems.sort(key=lambda p: p.row)
    return report


def _in_file_terms(problem: RowProblem, row_of: dict[str, int]) -> RowProblem:
    """A clash with a row of the same file names that row (its id exists only in this
    transaction, which is rolled back)."""
    text = problem.problem
    for made, row in row_of.items():
        text = text.replace(f"appointment {made}", f"the session of row {row}")
        text = text.replace(f"({made},", f"(row {row},")
    return replace(problem, problem=text)


class _RowError(Exception):
    def __init__(self, problem: RowProblem) -> None:
        super().__init__(problem.words())
        self.problem = problem


def _client(
    db: Database,
    session: Session,
    caller: Caller,
    roster: Roster,
    row: ClientRow,
    columns: Mapping[str, str],
) -> str:
    record: dict[str, Any] = {"name": row.name}
    if row.dob:
        record["dob"] = row.dob.isoformat()
    if row.sex:
        record["sex"] = row.sex
    if row.external_id:
        record["mrn"] = row.external_id
    contact = {k: v for k, v in (("phone", row.phone), ("email", row.email)) if v}
    if contact:
        record["contact"] = contact
    if row.clinician:
        record["primary_clinician"] = roster.staff(
            row.row, columns.get("clinician", ""), row.clinician
        )
    try:
        admitted = admit_in(db, session, caller, Admit(record, reason="CSV import"))
    except LikelyDuplicate as exc:
        existing = exc.existing or {}
        raise _RowError(
            RowProblem(
                row.row,
                columns.get("name") or columns.get("first_name", ""),
                f"{row.name} is already a patient ({existing.get('id')}, same "
                f"{existing.get('matched_on', 'name')})",
                "delete the row (the patient is in Rota already), or correct the name",
            )
        ) from exc
    except InvalidInput as exc:
        raise _RowError(_record_problem(row.row, exc, columns)) from exc
    return str(admitted["id"])


_FIELD_OF_PATH = {
    "name": "name",
    "dob": "dob",
    "sex": "sex",
    "mrn": "external_id",
    "primary_clinician": "clinician",
    "contact": "phone",
}


def _record_problem(row: int, exc: InvalidInput, columns: Mapping[str, str]) -> RowProblem:
    """The record checker's first problem ('$.dob: …'), named by the file's column."""
    first = exc.problems[0] if exc.problems else str(exc)
    match = re.match(r"\$\.(\w+)", first)
    column = columns.get(_FIELD_OF_PATH.get(match.group(1), ""), "") if match else ""
    return RowProblem(row, column, first.split(": ", 1)[-1], "correct the value in the file")


def _appointment(
    db: Database,
    session: Session,
    caller: Caller,
    roster: Roster,
    row: AppointmentRow,
    cmd: ImportRows,
) -> str:
    columns = cmd.columns
    staff = roster.staff(row.row, columns.get("clinician", ""), row.clinician)
    session_type = roster.session_type(row.row, columns.get("session_type", ""), row.session_type)
    patient = roster.patient(row.row, columns, row.patient, row.patient_id)
    room = roster.room(row.row, columns.get("room", ""), row.room) if row.room else None
    time_column = columns.get("start", "")
    tz = db.facility_tz()
    try:
        start = to_utc(datetime.combine(row.day, time(row.start // 60, row.start % 60)), tz)
    except InvalidInput as exc:
        raise _RowError(
            RowProblem(row.row, time_column, str(exc), "give a time that exists")
        ) from exc
    try:
        authorize(db, caller, "book", patient_id=patient)
        view = booking_service(db, session).book(
            caller.staff_id,
            BookingRequest(
                session_type=session_type,
                start=start,
                staff=[staff],
                patients=[patient],
                room=room,
                minutes=row.minutes,
            ),
            reason=f"CSV import ({cmd.source})",
        )
    except BookingConflict as exc:
        raise _RowError(
            RowProblem(
                row.row,
                time_column,
                str(exc),
                "pick a free time, or delete the row if it is in Rota already",
            )
        ) from exc
    except (RuleViolation, PermissionDenied) as exc:
        raise _RowError(
            RowProblem(
                row.row,
                "",
                str(exc),
                "change the row so the rule allows it, or book it by hand with an override",
            )
        ) from exc
    except RotaError as exc:
        raise _RowError(RowProblem(row.row, time_column, str(exc), "correct the row")) from exc
    return view.id


# -- matching names against the roster ----------------------------------------------------------

_TITLE = re.compile(r"^(dr|mr|mrs|ms|mx)\.?\s+", re.IGNORECASE)
_DEGREES = frozenset({"psyd", "phd", "edd", "dsw", "ma", "ms", "msw", "med", "mft"})


def loose(name: str) -> str:
    """A name without case, titles, credentials or 'Last, First' order: 'Romero, Brian' and
    'Brian Romero, LCSW' and 'Dr. brian romero' all read 'brian romero' (and 'Nevárez' reads 'nevarez')."""
    parts = [p.strip() for p in " ".join(name.split()).split(",")]
    kept = [parts[0], *(p for p in parts[1:] if p and not _is_credential(p))]
    text = f"{kept[1]} {kept[0]}" if len(kept) == 2 else " ".join(kept)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _TITLE.sub("", text).casefold().strip()


def _is_credential(part: str) -> bool:
    """'LCSW', 'M.D.', 'PsyD': one word, all capitals or a known degree."""
    bare = part.replace(".", "")
    return " " not in part and bool(bare) and (bare.isupper() or bare.casefold() in _DEGREES)


@dataclass(frozen=True)
class Roster:
    staff_names: dict[str, str]
    types: dict[str, tuple[str | None, str | None]]  # id → (name, cpt)
    patients: dict[str, tuple[str, str | None]]  # id → (name, mrn)
    rooms: dict[str, str]

    @classmethod
    def read(cls, session: Session) -> Roster:
        return cls(
            dict(session.execute(select(Staff.id, Staff.name)).tuples().all()),
            {
                i: (n, c)
                for i, n, c in session.execute(
                    select(SessionType.id, SessionType.name, SessionType.cpt)
                ).tuples()
            },
            {
                i: (n, m)
                for i, n, m in session.execute(
                    select(Patient.id, Patient.name, Patient.mrn).where(
                        (Patient.phase.is_(None)) | (Patient.phase != "discharged")
                    )
                ).tuples()
            },
            dict(session.execute(select(Room.id, Room.name)).tuples().all()),
        )

    def staff(self, row: int, column: str, value: str) -> str:
        return _match(
            row,
            column,
            value,
            self.staff_names,
            "clinician",
            "write a clinician's name as Rota has it",
        )

    def room(self, row: int, column: str, value: str) -> str:
        return _match(
            row,
            column,
            value,
            self.rooms,
            "room",
            "write a room's name as Rota has it, or empty the cell to let Rota choose",
        )

    def session_type(self, row: int, column: str, value: str) -> str:
        names = {i: n or i for i, (n, _) in self.types.items()}
        by_cpt = [i for i, (_, cpt) in self.types.items() if cpt and cpt == value.strip()]
        if len(by_cpt) == 1 and value.strip() not in names:  # a service code (CPT)
            return by_cpt[0]
        return _match(
            row, column, value, names, "session type", "write a session type's name, id or CPT code"
        )

    def patient(
        self, row: int, columns: Mapping[str, str], name: str, external_id: str | None
    ) -> str:
        if external_id:
            found = [i for i, (_, mrn) in self.patients.items() if mrn == external_id]
            if len(found) == 1:
                return found[0]
            if external_id in self.patients:
                return external_id
        names = {i: n for i, (n, _) in self.patients.items()}
        return _match(
            row,
            columns.get("patient", ""),
            name,
            names,
            "patient",
            "import the clients first, or spell the name as Rota has it (or add the ID column)",
        )


def _match(row: int, column: str, value: str, names: dict[str, str], what: str, fix: str) -> str:
    """The one id whose id or name is `value`: exactly, then ignoring case, then loosely."""
    text = value.strip()
    if text in names:
        return text
    for same in (
        lambda n: n == text,
        lambda n: n.casefold() == text.casefold(),
        lambda n: loose(n) == loose(text),
    ):
        found = _matching(names, same)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise _RowError(
                RowProblem(
                    row,
                    column,
                    f"{len(found)} {what}s are named {text!r} ({', '.join(sorted(found))})",
                    f"use the id instead of the name ({' or '.join(sorted(found))})",
                )
            )
    near = difflib.get_close_matches(text, list(names.values()), n=1, cutoff=0.6)
    hint = f"did you mean {near[0]!r}? Otherwise {fix}" if near else fix
    raise _RowError(RowProblem(row, column, f"no {what} named {text!r}", hint))


def _matching(names: dict[str, str], same: Callable[[str], bool]) -> list[str]:
    return [i for i, n in names.items() if same(n)]
