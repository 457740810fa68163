"""Signing in to the web pages: a token or a one-time link, then a session that ends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from assistant.usecases import people, web_sign_in
from clinic.db import Database
from clinic.timeutil import use_clock
from integrations.cli.main import run
from integrations.web.session import SESSION_COOKIE
from tests.web.conftest import DEMO_NOW


def _at(moment: Any) -> None:
    use_clock(lambda: moment)


def test_a_token_signs_in_with_a_cookie_the_page_scripts_cannot_read(
    web_app: Litestar, demo_db: Database
) -> None:
    token = people.create_token(demo_db, "s001")
    with TestClient(web_app) as client:
        form = client.get("/signin?next=/dashboard")
        assert form.status_code == 200 and 'name="next" value="/dashboard"' in form.text
        answer = client.post(
            "/signin", data={"token": token, "next": "/dashboard"}, follow_redirects=False
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie
        assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
        again = client.get("/signin", follow_redirects=False)  # signed in: no form again
        assert again.status_code == 303


def test_a_wrong_token_is_refused_in_plain_words(web_app: Litestar) -> None:
    with TestClient(web_app) as client:
        answer = client.post("/signin", data={"token": "rota_guess"}, follow_redirects=False)
        assert answer.status_code == 401
        assert "not known" in answer.text and SESSION_COOKIE not in answer.cookies
        empty = client.post("/signin", data={"token": " "})
        assert empty.status_code == 400 and "Paste your Rota token" in empty.text


def test_signing_in_sends_you_only_back_into_rota(web_app: Litestar, demo_db: Database) -> None:
    token = people.create_token(demo_db, "s001")
    with TestClient(web_app) as client:
        answer = client.post(
            "/signin", data={"token": token, "next": "//evil.example/x"}, follow_redirects=False
        )
        assert answer.headers["location"] == "/"


def test_a_link_works_once_and_for_fifteen_minutes(web_app: Litestar, demo_db: Database) -> None:
    secret = web_sign_in.create_link(demo_db, "s004")
    stale = web_sign_in.create_link(demo_db, "s004")
    with TestClient(web_app) as client:
        page = client.get("/signin/link")
        assert page.status_code == 200 and "/static/web/signin.js" in page.text
        first = client.post("/signin/link", data={"token": secret}, follow_redirects=False)
        assert first.status_code == 303 and SESSION_COOKIE in first.cookies
        second = client.post("/signin/link", data={"token": secret})
        assert second.status_code == 400 and "already used" in second.text
        _at(DEMO_NOW + timedelta(minutes=16))
        late = client.post("/signin/link", data={"token": stale})
        assert late.status_code == 400 and "expired" in late.text


def test_a_session_ends_after_idle_minutes_and_at_sign_out(
    web_app: Litestar, demo_db: Database
) -> None:
    idle_cookie = web_sign_in.sign_in_with_link(demo_db, web_sign_in.create_link(demo_db, "s001"))
    cookie = web_sign_in.sign_in_with_link(demo_db, web_sign_in.create_link(demo_db, "s001"))
    _at(DEMO_NOW + timedelta(minutes=10))
    visit = web_sign_in.visit(demo_db, cookie)  # in use: its idle clock restarts
    assert visit is not None
    _at(DEMO_NOW + timedelta(minutes=20))
    assert web_sign_in.visit(demo_db, idle_cookie) is None  # 20 minutes untouched
    assert web_sign_in.visit(demo_db, cookie) is not None
    with TestClient(web_app) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        refused = client.post("/signout", follow_redirects=False)  # no CSRF token
        assert refused.status_code == 403 and "reload the page" in refused.text
        assert web_sign_in.visit(demo_db, cookie) is not None
        out = client.post("/signout", headers={"X-CSRF-Token": visit.csrf}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"].startswith("/signin")
    assert web_sign_in.visit(demo_db, cookie) is None
    _at(DEMO_NOW + timedelta(hours=13))
    assert web_sign_in.visit(demo_db, cookie) is None


def test_without_a_session_htmx_is_told_to_go_to_sign_in(web_app: Litestar) -> None:
    with TestClient(web_app) as client:
        answer = client.post(
            "/signout",
            headers={"HX-Request": "true", "HX-Current-URL": "http://x/board?day=2026-12-01"},
            follow_redirects=False,
        )
        assert answer.status_code == 401
        assert answer.headers["hx-redirect"] == "/signin?next=/board%3Fday%3D2026-12-01"


def test_pages_are_never_cached_or_framed(web_app: Litestar) -> None:
    with TestClient(web_app) as client:
        headers = client.get("/signin").headers
        assert headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self';" in headers["content-security-policy"]


def test_the_cli_prints_a_one_time_link_last_on_its_line(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    monkeypatch.setenv("ROTA_BASE_URL", "https://rota.clinic.example")
    assert run(["token", "create", "--staff", "s004", "--link"]) == 0
    line = capsys.readouterr().out.strip()
    url = line.split()[-1]
    assert url.startswith("https://rota.clinic.example/signin/link#rotal_")
    assert web_sign_in.sign_in_with_link(demo_db, url.split("#", 1)[1])
    assert run(["token", "create", "--staff", "nobody", "--link"]) != 0
    assert "no staff member" in capsys.readouterr().err


def test_a_browser_signs_in_through_a_link(signed_in_page: Any, live_server: Any) -> None:
    page = signed_in_page("s001")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies[SESSION_COOKIE]["httpOnly"] is True
    assert "#" not in page.url  # the secret left the address bar
    page.goto(f"{live_server.url}/signin")
    assert "/signin" not in page.url  # signed in: straight back in
    again = page.context.new_page()
    again.goto(f"{live_server.url}/signin/link")  # a link with its secret cut off
    assert "incomplete" in again.inner_text("#link-help")
