"""The board over HTTP (no browser): what each role sees, the day's navigation, bad days in
plain words, the ETag refresh, attendance and booking through the dialogs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from assistant.usecases import board, board_slots
from clinic.db import Database
from clinic.tokens import Caller
from integrations.web.session import SESSION_COOKIE
from tests.web.browser import sign_in

MONDAY = date(2026, 11, 30)
DIRECTOR = Caller("s001", "David Walker", "clinical_director")
FRONT_DESK = "s004"


@pytest.fixture()
def signed_in_client(
    web_app: Litestar, demo_db: Database
) -> Iterator[Callable[[str], TestClient[Litestar]]]:
    """As tests/web/conftest.py's, which passes `headers=` that this Litestar's TestClient does
    not take (the CSRF header is set on the client after it is made). The clients are not
    entered: two clients entering one app's lifespan hang on leaving it."""

    def make(staff_id: str) -> TestClient[Litestar]:
        cookie, csrf = sign_in(demo_db, staff_id)
        client = TestClient(web_app)
        client.headers["X-CSRF-Token"] = csrf
        client.cookies.set(SESSION_COOKIE, cookie)
        return client

    yield make


def _blocks(html: str) -> int:
    return len(re.findall(r'class="block ', html))


def test_today_is_the_demo_monday_with_every_block_the_use_case_counts(
    signed_in_client, demo_db
) -> None:
    client = signed_in_client("s001")
    response = client.get("/")
    assert response.status_code == 200
    expected = board.day_board(demo_db, DIRECTOR, board.BoardQuery(MONDAY)).blocks
    assert expected > 20
    assert _blocks(response.text) == expected
    assert "Today, Monday 30 November" in response.text
    assert "<title>Board, Monday 30 November — Rota</title>" in response.text
    # Session types carry a label, not colour alone; statuses carry a word.
    assert "Individual psychotherapy" in response.text
    assert '<span class="b-status">Booked</span>' in response.text


def test_rooms_as_rows(signed_in_client, demo_db) -> None:
    response = signed_in_client("s001").get("/board?day=2026-11-30&by=rooms")
    assert response.status_code == 200
    assert "Individual room 1" in response.text
    assert 'aria-current="page">Rooms' in response.text


def test_a_bad_day_is_a_400_page_in_plain_words(signed_in_client) -> None:
    client = signed_in_client("s001")
    response = client.get("/board?day=2026-13-45")
    assert response.status_code == 400
    assert "is not a day" in response.text and "2026-12-01" in response.text
    assert "Traceback" not in response.text
    assert client.get("/board?day=2026-11-30&by=floors").status_code == 400
    assert "too far away" in client.get("/board?day=0001-01-01").text


def test_an_empty_day_says_so(signed_in_client) -> None:
    response = signed_in_client("s001").get("/board?day=2026-12-06")
    assert response.status_code == 200
    assert "No appointments on Sunday 6 December" in response.text
    assert "closed on Sundays" in response.text


def test_without_a_session_the_board_sends_to_signin(web_app) -> None:
    from litestar.testing import TestClient

    with TestClient(web_app) as client:
        response = client.get("/board?day=2026-11-30", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_front_desk_sees_names_but_no_session_type_or_clinical_detail(
    signed_in_client, demo_db
) -> None:
    client = signed_in_client(FRONT_DESK)
    page = client.get("/").text
    assert "Individual psychotherapy" not in page and "Group counseling" not in page
    desk = Caller(FRONT_DESK, "Theresa Williams", "front_desk")
    first = next(
        b
        for r in board.day_board(demo_db, desk, board.BoardQuery(MONDAY)).rows
        for b in r.blocks
        if b.title and "(" not in b.title
    )
    details = client.get(f"/board/blocks/{first.id}").text
    assert first.title in details  # the name: the front desk needs it
    assert "Level of care" not in details and "needs:" not in details
    assert "Session</dt>" not in details
    # The director sees the clinical detail of the same session.
    director = signed_in_client("s001").get(f"/board/blocks/{first.id}").text
    assert "Level of care" in director and "Session</dt>" in director


def test_the_grid_answers_304_until_something_changes(signed_in_client, demo_db) -> None:
    client = signed_in_client("s001")
    first = client.get("/board/grid?day=2026-11-30")
    assert first.status_code == 200
    etag = first.headers["etag"]
    again = client.get("/board/grid?day=2026-11-30", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # Someone else books: the next poll gets the new grid, with one more block.
    patient = board_slots.choices(demo_db, DIRECTOR).patients[0].id
    other = signed_in_client(FRONT_DESK)
    answer = other.post(
        "/board/slots",
        data={"patient": patient, "session_type": "individual", "day": "2026-12-01"},
    )
    assert answer.status_code == 200 and "Book" in answer.text
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', answer.text.split("<form")[1]))
    booked = other.post("/board/book", data=form)
    assert booked.status_code == 200 and "Booked for" in booked.text
    assert booked.headers["hx-trigger"] == "board-changed"
    fresh = client.get("/board/grid?day=2026-12-01", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag


def test_check_in_from_the_details(signed_in_client, demo_db) -> None:
    client = signed_in_client(FRONT_DESK)
    rows = board.day_board(demo_db, DIRECTOR, board.BoardQuery(MONDAY)).rows
    later = next(
        b
        for r in rows
        for b in r.blocks
        if b.start.hour >= 11 and b.status == "booked" and "(" not in b.title
    )
    details = client.get(f"/board/blocks/{later.id}").text
    assert "Check in" in details and "No-show" not in details  # not started: no outcome yet
    tomorrow = next(
        b
        for r in board.day_board(demo_db, DIRECTOR, board.BoardQuery(date(2026, 12, 1))).rows
        for b in r.blocks
    )
    assert "Check in" not in client.get(f"/board/blocks/{tomorrow.id}").text  # on the day only
    done = client.post(f"/board/blocks/{later.id}/attendance", data={"action": "check_in"})
    assert done.status_code == 200
    assert "Checked in." in done.text and '<dd class="d-status">Checked in</dd>' in done.text


def test_a_refused_mark_is_a_plain_message(signed_in_client, demo_db) -> None:
    client = signed_in_client(FRONT_DESK)
    rows = board.day_board(demo_db, DIRECTOR, board.BoardQuery(MONDAY)).rows
    later = next(b for r in rows for b in r.blocks if b.start.hour >= 11 and b.status == "booked")
    response = client.post(
        f"/board/blocks/{later.id}/attendance",
        data={"action": "attended"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "has not started yet" in response.text
    assert response.headers["hx-retarget"] == "#flash"


def test_posts_need_the_csrf_token(signed_in_client) -> None:
    client = signed_in_client(FRONT_DESK)
    client.headers.pop("X-CSRF-Token")
    response = client.post("/board/slots", data={"patient": "p0001", "day": "2026-12-01"})
    assert response.status_code == 403


def test_the_move_dialog_offers_times_for_the_one_patient(signed_in_client, demo_db) -> None:
    client = signed_in_client("s001")
    rows = board.day_board(demo_db, DIRECTOR, board.BoardQuery(MONDAY)).rows
    later = next(
        b
        for r in rows
        for b in r.blocks
        if b.start.hour >= 11 and b.status == "booked" and "(" not in b.title
    )
    dialog = client.get(f"/board/blocks/{later.id}/move?day=2026-12-01")
    assert dialog.status_code == 200 and 'name="move_of"' in dialog.text
    options = client.post("/board/slots", data={"move_of": later.id, "day": "2026-12-01"})
    assert options.status_code == 200
    assert "Move here" in options.text and "—" in options.text  # each option with its reason
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', options.text.split("<form")[1]))
    assert form["move_of"] == later.id
    moved = client.post("/board/book", data=form)
    assert moved.status_code == 200 and "Moved for" in moved.text
    monday = board.day_board(demo_db, DIRECTOR, board.BoardQuery(MONDAY))
    assert later.id not in {b.id for r in monday.rows for b in r.blocks}
