"""The board: today's (or one day's) sessions, clinicians or rooms as rows, time as columns.

Every handler calls a use case with the signed-in person and renders what it returns
(assistant.usecases.board, board_details, board_slots, appointments, attendance); what a role
may see or do is decided there, by the permissions pack. The grid refreshes itself: the page
polls `/board/grid` with the ETag it last got, answered 304 until the schedule's version moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template

from assistant.usecases import appointments, attendance, board, board_details, board_slots
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import parse_datetime
from integrations.web.board_layout import BUTTON_WORDS, STATUS_WORDS, grid_context
from integrations.web.render import fragment, page
from integrations.web.session import Visitor

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
POLL_MS = 5000
MAX_DAYS_AWAY = 3653
CHANGED = {"HX-Trigger": "board-changed"}
"""Tells this page's board to refresh now (after the person's own change)."""


def _day(db: Database, text: str | None) -> date:
    if text is None or not text.strip():
        return board.today(db)
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ClientException(
            f"“{text.strip()[:40]}” is not a day: give it as year-month-day, "
            "for example /board?day=2026-12-01"
        ) from None
    if abs((day - board.today(db)).days) > MAX_DAYS_AWAY:
        raise ClientException(f"{day.isoformat()} is too far away: pick a day within ten years")
    return day


def _etag(version: str, visitor: Visitor, query: board.BoardQuery) -> str:
    # Per person and per view: the same version renders differently for each role.
    return f'W/"{version}.{query.by}.{query.day.isoformat()}.{visitor.caller.staff_id}"'


def _day_words(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _by(text: str | None) -> board.By:
    try:
        return board.parse_by(text)
    except InvalidInput as exc:  # a bad address, as a bad day: 400
        raise ClientException(str(exc)) from None


def _board_page(db: Database, visitor: Visitor, day: date, by: str | None) -> Template:
    query = board.BoardQuery(day, _by(by))
    result = board.day_board(db, visitor.caller, query)
    today = board.today(db)
    return page(
        "board.html",
        visitor,
        title=f"Board, {_day_words(day)} — Rota",
        active="board",
        etag=_etag(result.version, visitor, query),
        poll_ms=POLL_MS,
        day_words=_day_words(day),
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        is_today=day == today,
        today=today,
        **grid_context(result),
    )


@get("/", sync_to_thread=True, include_in_schema=False)
def today_board(
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    by: FromQuery[str | None] = None,
) -> Template:
    return _board_page(db, visitor, board.today(db), by)


@get("/board", sync_to_thread=True, include_in_schema=False)
def day_board(
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    day: FromQuery[str | None] = None,
    by: FromQuery[str | None] = None,
) -> Template:
    return _board_page(db, visitor, _day(db, day), by)


@get("/board/grid", sync_to_thread=True, include_in_schema=False)
def board_grid(
    request: Request[Any, Any, Any],
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    day: FromQuery[str | None] = None,
    by: FromQuery[str | None] = None,
) -> Response[Any]:
    """The grid alone, for the page's refresh: 304 while nothing has changed."""
    query = board.BoardQuery(_day(db, day), _by(by))
    etag = _etag(board.board_version(db), visitor, query)
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers={"ETag": etag})
    result = board.day_board(db, visitor.caller, query)
    etag = _etag(result.version, visitor, query)
    template = fragment("board_grid.html", visitor, **grid_context(result))
    template.headers["ETag"] = etag
    return template  # type: ignore[return-value]


# --- one block ------------------------------------------------------------------------------


@get("/board/blocks/{appointment_id:str}", sync_to_thread=True, include_in_schema=False)
def block_details(
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    appointment_id: FromPath[str],
) -> Template:
    found = board_details.details(db, visitor.caller, appointment_id)
    return fragment("board_details.html", visitor, d=found, **DETAIL_WORDS)


@dataclass
class MarkForm:
    action: str = ""
    patient: str = ""


@post("/board/blocks/{appointment_id:str}/attendance", sync_to_thread=True, include_in_schema=False)
def mark_attendance(
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    appointment_id: FromPath[str],
    data: Annotated[MarkForm, FORM],
) -> Template:
    if data.action not in board_details.BOARD_MARKS:
        raise InvalidInput("choose check in, attended or no-show")
    attendance.mark(
        db,
        visitor.caller,
        attendance.Mark(
            appointment_id,
            data.action,
            reason="recorded on the web board",
            patient=data.patient or None,
        ),
    )
    found = board_details.details(db, visitor.caller, appointment_id)
    done = MARK_WORDS[data.action]
    template = fragment("board_details.html", visitor, d=found, done=done, **DETAIL_WORDS)
    template.headers.update(CHANGED)
    return template


# --- find a slot, move ----------------------------------------------------------------------


@get("/board/find", sync_to_thread=True, include_in_schema=False)
def find_dialog(
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    day: FromQuery[str | None] = None,
) -> Template:
    options = board_slots.choices(db, visitor.caller)
    return fragment("board_find.html", visitor, choices=options, day=_day(db, day))


@get("/board/blocks/{appointment_id:str}/move", sync_to_thread=True, include_in_schema=False)
def move_dialog(
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    appointment_id: FromPath[str],
    day: FromQuery[str | None] = None,
) -> Template:
    found = board_details.details(db, visitor.caller, appointment_id)
    if not found.can_move:
        raise InvalidInput(
            "this session cannot be moved from the board (it has started, "
            "is a group's, or your role may not move it)"
        )
    return fragment("board_move.html", visitor, d=found, day=_day(db, day))


@dataclass
class SlotForm:
    day: str = ""
    patient: str = ""
    session_type: str = ""
    move_of: str = ""


@post("/board/slots", sync_to_thread=True, include_in_schema=False)
def find_slots(
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    data: Annotated[SlotForm, FORM],
) -> Template:
    """Ranked options with their reasons (a POST: the patient is never in a URL)."""
    day = _day(db, data.day)
    answer = board_slots.find_slots(
        db,
        visitor.caller,
        board_slots.FindSlots(
            day=day,
            patient=data.patient or None,
            session_type=data.session_type or None,
            move_of=data.move_of or None,
        ),
    )
    return fragment("board_options.html", visitor, answer=answer, day_words=_day_words(day))


@dataclass
class BookForm:
    patient: str = ""
    session_type: str = ""
    start: str = ""
    staff: str = ""
    room: str = ""
    move_of: str = ""


@post("/board/book", sync_to_thread=True, include_in_schema=False)
def book_option(
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    data: Annotated[BookForm, FORM],
) -> Template:
    if not data.start or not data.staff:
        raise InvalidInput("choose one of the options first")
    tz = db.facility_tz()
    start = parse_datetime(data.start, tz)
    staff = tuple(s for s in data.staff.split(",") if s)
    if data.move_of:
        after = appointments.move(
            db,
            visitor.caller,
            appointments.Move(
                data.move_of,
                "moved on the web board",
                start=start,
                staff=staff,
                room=data.room or None,
            ),
        )
        verb = "Moved"
    else:
        after = appointments.book(
            db,
            visitor.caller,
            appointments.Book(
                session_type=data.session_type,
                start=start,
                staff=staff,
                patients=(data.patient,),
                room=data.room or None,
                reason="booked on the web board",
            ),
        )
        verb = "Booked"
    local = after.start.astimezone(tz)
    template = fragment(
        "board_booked.html",
        visitor,
        verb=verb,
        when=f"{_day_words(local.date())}, {local:%H:%M}",
        day=local.date(),
    )
    template.headers.update(CHANGED)
    return template


DETAIL_WORDS = {"status_words": STATUS_WORDS, "mark_words": BUTTON_WORDS}
MARK_WORDS = {"check_in": "Checked in", "attended": "Marked attended", "no_show": "Marked no-show"}


HANDLERS = [
    today_board,
    day_board,
    board_grid,
    block_details,
    mark_attendance,
    find_dialog,
    move_dialog,
    find_slots,
    book_option,
]
