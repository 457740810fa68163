"""Signing in and out: a bearer token typed once, or a one-time link; then a session cookie.

The link carries its secret after '#': browsers never send that part to a server, so it is in
no access log and no Referer; static/signin.js posts it. A link scanner that fetches the page
without running scripts cannot use it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from assistant.authentication import Throttle
from assistant.usecases import web_sign_in
from clinic.db import Database
from clinic.errors import InvalidInput, NotAuthenticated, TooManyAttempts
from integrations.http.auth import client_of
from integrations.web.session import SESSION_COOKIE, Visitor, safe_next

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


@dataclass
class TokenForm:
    token: str = ""
    next: str = "/"


@dataclass
class LinkForm:
    token: str = ""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:].rstrip(".") + "."


def _signed_in(request: Request[Any, Any, Any], cookie: str, target: str) -> Redirect:
    response = Redirect(safe_next(target), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )
    return response


def _signin_page(next_path: str, error: str | None = None, status: int = 200) -> Template:
    return Template(
        template_name="signin.html",
        context={"next": safe_next(next_path), "error": error, "title": "Sign in — Rota"},
        status_code=status,
    )


@get("/signin", sync_to_thread=True, include_in_schema=False)
def signin_form(
    request: Request[Any, Any, Any], db: NamedDependency[Database], next: FromQuery[str] = "/"
) -> Response[Any]:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie and web_sign_in.visit(db, cookie) is not None:
        return Redirect(safe_next(next), status_code=303)
    return _signin_page(next)


@post("/signin", sync_to_thread=True, include_in_schema=False)
def signin_with_token(
    request: Request[Any, Any, Any],
    db: NamedDependency[Database],
    throttle: NamedDependency[Throttle],
    data: Annotated[TokenForm, FORM],
) -> Response[Any]:
    if not data.token.strip():
        return _signin_page(data.next, "Paste your Rota token (it starts with rota_).", 400)
    try:
        cookie = web_sign_in.sign_in_with_token(
            db, data.token, client=client_of(request), throttle=throttle
        )
    except NotAuthenticated as exc:
        return _signin_page(data.next, _sentence(str(exc)), 401)
    except TooManyAttempts as exc:
        return _held(data.next, exc)
    return _signed_in(request, cookie, data.next)


def _held(next_path: str, exc: TooManyAttempts) -> Response[Any]:
    page = _signin_page(next_path, _sentence(str(exc)), 429)
    page.headers["Retry-After"] = str(exc.retry_after)
    return page


@get("/signin/link", sync_to_thread=False, include_in_schema=False)
def signin_link_page() -> Template:
    return Template(template_name="signin_link.html", context={"title": "Sign in — Rota"})


@post("/signin/link", sync_to_thread=True, include_in_schema=False)
def signin_with_link(
    request: Request[Any, Any, Any],
    db: NamedDependency[Database],
    throttle: NamedDependency[Throttle],
    data: Annotated[LinkForm, FORM],
) -> Response[Any]:
    try:
        cookie = web_sign_in.sign_in_with_link(
            db, data.token, client=client_of(request), throttle=throttle
        )
    except InvalidInput as exc:
        return _signin_page("/", _sentence(str(exc)), 400)
    except TooManyAttempts as exc:
        return _held("/", exc)
    return _signed_in(request, cookie, "/")


@post("/signout", sync_to_thread=True, include_in_schema=False)
def signout(
    request: Request[Any, Any, Any],
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
) -> Response[Any]:
    web_sign_in.sign_out(db, request.cookies.get(SESSION_COOKIE, ""))
    response = Redirect("/signin?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


HANDLERS = [signin_form, signin_with_token, signin_link_page, signin_with_link, signout]
