"""The approvals, patient and chat pages in a real browser: what a director and a case manager
do with them, axe-core on each, and their screenshots at 1280×800."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clinic.models import Proposal
from tests.web.browser import assert_accessible, screenshot
from tests.web.test_approvals import sick_call


def test_a_director_approves_a_sick_call_in_the_browser(
    signed_in_page: Any, live_server: Any
) -> None:
    proposal = sick_call(live_server.db)
    page = signed_in_page("s001")
    page.goto(f"{live_server.url}/approvals")
    card = page.locator(f"#proposal-{proposal['id']}")
    assert "Brian Romero is out" in card.inner_text()
    assert_accessible(page)
    screenshot(page, "approvals")
    card.get_by_role("button", name="Apply").click()
    page.get_by_text("moved").first.wait_for()
    with live_server.db.read() as session:
        status = session.scalar(select(Proposal.status).where(Proposal.id == proposal["id"]))
    assert status == "applied"


def test_the_chat_panel_offers_slots_and_books_one(signed_in_page: Any, live_server: Any) -> None:
    page = signed_in_page("s006")  # a case manager
    page.fill("#chat-message", "find a slot for Kevin Fowler tomorrow")
    page.keyboard.press("Enter")
    book = page.locator("#chat-log").get_by_role("button", name="Book 1")
    book.wait_for()
    assert page.input_value("#chat-message") == ""  # the box empties once answered
    assert_accessible(page)
    book.click()
    page.locator("#chat-log").get_by_text("Booked:").wait_for()


def test_a_patient_page_by_role(signed_in_page: Any, live_server: Any) -> None:
    director = signed_in_page("s001")
    director.goto(f"{live_server.url}/patients/p0002")
    assert director.title() == "Patient — Rota"
    assert "Authorization" in director.inner_text("main")
    assert_accessible(director)
    screenshot(director, "patient")
    desk = signed_in_page("s004")
    desk.goto(f"{live_server.url}/patients/p0002")
    assert "Authorization" not in desk.inner_text("main")
    assert "Court" not in desk.inner_text("main")
