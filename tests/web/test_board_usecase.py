"""assistant.usecases.board: rows, bands and what each role's blocks say (no web server)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from assistant.usecases import board
from clinic.models import Room, RoomUnavailability, StaffUnavailability
from clinic.tokens import Caller

NY = ZoneInfo("America/New_York")
MONDAY = date(2026, 11, 30)
DIRECTOR = Caller("s001", "David Walker", "clinical_director")


def test_an_absence_and_a_room_closure_are_bands_without_private_reasons(demo_db) -> None:
    with demo_db.session() as session:
        session.add(
            StaffUnavailability(
                staff_id="c003",
                start=datetime(2026, 11, 30, 13, tzinfo=NY),
                end=datetime(2026, 11, 30, 15, tzinfo=NY),
                reason="migraine",
            )
        )
        room = session.get(Room, "ind-2")
        assert room is not None
        session.add(
            RoomUnavailability(
                room_id="ind-2",
                start=datetime(2026, 11, 29, 0, tzinfo=NY),
                end=datetime(2026, 12, 2, 0, tzinfo=NY),
                reason="painting",
            )
        )
    by_staff = board.day_board(demo_db, DIRECTOR, board.BoardQuery(MONDAY))
    away = next(r for r in by_staff.rows if r.id == "c003").bands
    assert [(b.kind, b.label, b.minutes) for b in away] == [("absence", "Away", 120)]
    assert away[0].from_open == 13 * 60 - by_staff.open_minute
    by_room = board.day_board(demo_db, DIRECTOR, board.BoardQuery(MONDAY, "rooms"))
    closed = next(r for r in by_room.rows if r.id == "ind-2").bands
    # A closure longer than the day covers the whole axis, no further.
    assert [(b.label, b.from_open, b.minutes) for b in closed] == [
        ("Closed: painting", 0, by_room.span)
    ]


def test_each_role_sees_what_the_pack_grants(demo_db) -> None:
    query = board.BoardQuery(MONDAY)
    director = board.day_board(demo_db, DIRECTOR, query)
    desk = board.day_board(demo_db, Caller("s004", "Theresa Williams", "front_desk"), query)
    therapist = board.day_board(demo_db, Caller("c003", "Amanda Diaz", "therapist"), query)
    assert director.blocks == desk.blocks == therapist.blocks > 0
    blocks = {b.id: b for r in director.rows for b in r.blocks}
    assert all(b.session_type for b in blocks.values())
    assert all(b.session_type is None and b.colour is None for r in desk.rows for b in r.blocks)
    # The front desk sees who (names, even of a group's members) but not which group: a
    # group's name says what it treats.
    desk_titles = {b.title for r in desk.rows for b in r.blocks}
    assert all(desk_titles) and not any("Skills" in t for t in desk_titles)
    for row in therapist.rows:
        for b in row.blocks:
            if "c003" in blocks[b.id].staff:
                assert b.title == blocks[b.id].title  # their own sessions in full
            else:
                assert b.title == "" and b.session_type is None  # others': time and room


def test_rows_by_room_are_every_room_and_a_session_without_a_room_is_on_no_row(demo_db) -> None:
    result = board.day_board(demo_db, DIRECTOR, board.BoardQuery(MONDAY, "rooms"))
    with demo_db.read() as session:
        rooms = session.query(Room).count()
    assert len(result.rows) == rooms
    assert result.legend and result.version != "0"


def test_a_bad_row_choice_is_refused_in_words() -> None:
    import pytest

    from clinic.errors import InvalidInput

    with pytest.raises(InvalidInput, match="by 'staff' or by 'rooms'"):
        board.parse_by("floors")
