"""The board in a real browser (Chromium through Playwright): what a person sees and does."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.usecases import board, board_slots
from clinic.tokens import Caller
from tests.web.browser import assert_accessible, screenshot

MONDAY = date(2026, 11, 30)
TUESDAY = date(2026, 12, 1)
DIRECTOR = Caller("s001", "David Walker", "clinical_director")


def _expected_blocks(db, caller: Caller = DIRECTOR, day: date = MONDAY) -> int:
    return board.day_board(db, caller, board.BoardQuery(day)).blocks


def _patient_with_a_slot_on(db, day: date) -> str:
    """A patient the slot finder has an individual session for on that very day."""
    for patient in board_slots.choices(db, DIRECTOR).patients:
        answer = board_slots.find_slots(
            db, DIRECTOR, board_slots.FindSlots(day, patient.id, "individual")
        )
        if answer.options and not answer.options[0].other_day:
            return patient.id
    raise AssertionError(f"no patient has an individual slot on {day}")


def test_the_board_shows_every_block_and_is_accessible(signed_in_page, live_server) -> None:
    page = signed_in_page("s001")
    page.goto(f"{live_server.url}/")
    page.wait_for_selector(".block")
    assert page.locator(".block").count() == _expected_blocks(live_server.db)
    assert page.title() == "Board, Monday 30 November — Rota"
    assert_accessible(page)
    screenshot(page, "board")


def test_open_a_block_by_keyboard_and_check_the_patient_in(signed_in_page, live_server) -> None:
    page = signed_in_page("s001")
    rows = board.day_board(live_server.db, DIRECTOR, board.BoardQuery(MONDAY)).rows
    later = next(
        b
        for r in rows
        for b in r.blocks
        if b.start.hour >= 11 and b.status == "booked" and "(" not in b.title
    )
    page.goto(f"{live_server.url}/")
    block = page.locator(f'[data-block="{later.id}"]').first
    block.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#board-dialog")
    dialog.get_by_role("button", name="Check in").click()
    page.wait_for_selector("#board-dialog .board-done")
    assert "Checked in" in dialog.locator(".d-status").inner_text()
    assert_accessible(page)
    page.keyboard.press("Escape")
    # The board refreshes itself: the block now says so.
    page.wait_for_function(
        f"""() => {{ const b = document.querySelector('[data-block="{later.id}"] .b-status');
               return b && b.textContent.includes('Checked in'); }}"""
    )


def test_front_desk_sees_no_clinical_detail(signed_in_page, live_server) -> None:
    page = signed_in_page("s004")
    page.goto(f"{live_server.url}/")
    page.locator(".block").first.click()
    dialog = page.locator("#board-dialog")
    dialog.locator("h2").wait_for()
    text = dialog.inner_text()
    assert "Room" in text and "With" in text
    for clinical in ("Session", "Level of care", "phase:", "needs:"):
        assert clinical not in text
    assert "Individual psychotherapy" not in page.content()


def test_find_and_book_a_slot_seen_live_by_a_second_browser(signed_in_page, live_server) -> None:
    tuesday = TUESDAY.isoformat()
    watcher = signed_in_page("s004")
    watcher.goto(f"{live_server.url}/board?day={tuesday}")
    watcher.wait_for_selector(".block")
    before = watcher.locator(".block").count()

    page = signed_in_page("s001")
    page.goto(f"{live_server.url}/board?day={tuesday}")
    page.get_by_role("button", name="Find a slot…").click()
    dialog = page.locator("#board-dialog")
    dialog.get_by_label("Patient").select_option(_patient_with_a_slot_on(live_server.db, TUESDAY))
    dialog.get_by_label("Session type").select_option("individual")
    dialog.get_by_role("button", name="Find slots").click()
    options = dialog.locator(".board-options li")
    options.first.wait_for(timeout=60_000)  # the first search builds the solver's problem
    assert dialog.locator(".o-why").first.inner_text().startswith("—")  # with its reason
    assert_accessible(page)
    options.first.get_by_role("button").click()
    page.wait_for_selector("#board-dialog .board-done")
    assert "Booked for" in dialog.inner_text()

    # The other browser sees it without reloading (it polls every few seconds).
    watcher.wait_for_function(
        f"() => document.querySelectorAll('.block').length > {before}", timeout=20_000
    )
    assert watcher.locator(".block").count() == before + 1


@pytest.mark.parametrize("path", ["/board?day=2026-12-06", "/board?day=2026-11-30&by=rooms"])
def test_other_views_are_accessible(signed_in_page, live_server, path: str) -> None:
    page = signed_in_page("s001")
    page.goto(f"{live_server.url}{path}")
    page.locator("#board-title").wait_for()
    assert_accessible(page)


def test_an_error_in_a_dialog_is_said_in_the_dialog(signed_in_page, live_server) -> None:
    page = signed_in_page("s004")
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Find a slot…").click()
    dialog = page.locator("#board-dialog")
    dialog.get_by_label("Day").fill("2026-11-20")
    dialog.get_by_role("button", name="Find slots").click()
    alert = page.locator("#board-dialog-flash")
    alert.get_by_text("has passed").wait_for()
    assert "pick today or a later day" in alert.inner_text()
    assert dialog.is_visible()
