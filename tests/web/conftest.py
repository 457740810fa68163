"""The web door's fixtures: signed-in test clients, a live server, a real browser, axe-core.

Browser tests drive Debian's Chromium through Playwright (`executable_path`; Playwright's own
browser download is never used). Outside CI they skip with a one-line reason when no Chromium
is found; under CI (CI=true) a missing browser fails the run. Every test here sees the demo
facility's Monday, 2026-11-30 10:00 in New York, as "now".
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from assistant.usecases import web_sign_in
from clinic.db import Database
from integrations.http.app import create_app
from integrations.web.session import SESSION_COOKIE
from tests.conftest import pin_clock
from tests.live import serving
from tests.web.browser import VIEWPORT, sign_in

NY = ZoneInfo("America/New_York")
DEMO_NOW = datetime(2026, 11, 30, 10, 0, tzinfo=NY)
demo_clock = pin_clock(DEMO_NOW)


@pytest.fixture()
def web_app(demo_db: Database) -> Litestar:
    return create_app(demo_db)


@pytest.fixture()
def signed_in_client(
    web_app: Litestar, demo_db: Database
) -> Iterator[Callable[[str], TestClient[Litestar]]]:
    """`signed_in_client("s001")`: a TestClient with that person's session cookie; it sends the
    session's CSRF header on every request (drop it to test a refusal: `client.headers.pop(...)`)."""

    def make(staff_id: str) -> TestClient[Litestar]:
        cookie, csrf = sign_in(demo_db, staff_id)
        # Not entered: several clients of one app must not each run its lifespan.
        client = TestClient(web_app)
        client.headers["X-CSRF-Token"] = csrf
        client.cookies.set(SESSION_COOKIE, cookie)
        return client

    yield make


@dataclass
class LiveServer:
    url: str
    db: Database


@pytest.fixture()
def live_server(web_app: Litestar, demo_db: Database) -> Iterator[LiveServer]:
    """uvicorn serving the app on a free port, in a thread of this process (so the pinned clock
    and the test's database are the server's)."""
    with serving(web_app) as port:
        yield LiveServer(url=f"http://127.0.0.1:{port}", db=demo_db)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Per module, not per session: Playwright's sync API keeps an event loop running in this
    # thread, and a later test in the same worker that calls asyncio.run() would fail.
    executable = _chromium()
    if executable is None:
        reason = "no Chromium found (apt-get install chromium); browser tests skipped"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture()
def signed_in_page(browser: Any, live_server: LiveServer) -> Iterator[Callable[[str], Any]]:
    """`signed_in_page("s001")`: a 1280×800 page of its own browser context (its own cookies),
    signed in through a one-time link exactly as a person would open it; it shows the board."""
    contexts: list[Any] = []

    def make(staff_id: str) -> Any:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        secret = web_sign_in.create_link(live_server.db, staff_id)
        page.goto(f"{live_server.url}/signin/link#{secret}")
        page.wait_for_url(lambda url: "/signin" not in url)
        return page

    yield make
    for context in contexts:
        context.close()
