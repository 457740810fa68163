"""Every response carries the security headers, whichever door answered and however: each
route of the app is walked (signed in and not), with 404s, 401s, redirects, static files, the
OpenAPI page and a forced 500; CORS answers no origin; error bodies name no software, version
or stack trace."""

from __future__ import annotations

import re
import sys
from importlib.metadata import version

import pytest
from litestar import Litestar, Router, get
from litestar.testing import TestClient

from integrations.http.hardening import COMMON, PAGE_CSP, Hardening
from integrations.web.errors import EXCEPTION_HANDLERS as WEB_ERRORS
from tests.security.conftest import Credentials, signed_in

# A value for each path parameter: real records where the demo has them, so the walk reaches
# the answers that carry patient data, not only the 404s.
VALUES = {
    "patient_id": "p0050",
    "staff_id": "s006",
    "file_path": "rota.js",
    "path": "openapi.yaml",
    "name": "utilization.csv",
    "feed": "not-a-feed.ics",
}
STATIC_FILES = {"/static/swagger": "swagger-ui.css", "/static/web": "rota.js"}
PARAM = re.compile(r"{(\w+):\w+}")
LEAKS = [
    "traceback",
    'file "',
    "uvicorn",
    "litestar",
    "starlette",
    "sqlalchemy",
    "werkzeug",
    f"python {sys.version_info.major}.{sys.version_info.minor}",
    *(version(p) for p in ("litestar", "uvicorn", "sqlalchemy")),
    sys.version.split()[0],
]


def requests_of(app: Litestar) -> list[tuple[str, str]]:
    """(method, URL) for every method of every route; signing out last."""
    calls = []
    for route in app.routes:
        path = route.path
        for prefix, file in STATIC_FILES.items():
            if path.startswith(prefix + "/"):
                path = f"{prefix}/{file}"
        path = PARAM.sub(lambda m: VALUES.get(m.group(1), "x1" if "int" not in m[0] else "1"), path)
        for method in sorted(getattr(route, "methods", ())):
            calls.append((method, path))
    return sorted(calls, key=lambda call: call[1] == "/signout")


def assert_hardened(method: str, url: str, status: int, headers: dict[str, str], body: str) -> None:
    where = f"{method} {url} → {status}"
    for name, value in COMMON.items():
        assert headers.get(name.lower()) == value, where
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, where
    if headers.get("content-type", "").startswith("text/html"):
        assert csp == PAGE_CSP, where
        script_src = re.search(r"script-src ([^;]*)", csp)
        assert script_src and "unsafe-inline" not in script_src[1], where
    if not url.startswith("/static/"):
        assert headers.get("cache-control") == "no-store", where
    assert "server" not in headers and "x-powered-by" not in headers, where
    assert "access-control-allow-origin" not in headers, where
    assert status != 500, where
    if status >= 400:
        lowered = body.lower()
        assert not [leak for leak in LEAKS if leak.lower() in lowered], (where, body[:300])


@pytest.mark.parametrize("who", ["signed in", "anonymous"])
def test_every_route_carries_the_headers(
    who: str, app: Litestar, client: TestClient[Litestar], director: Credentials
) -> None:
    if who == "signed in":
        signed_in(client, director)
    calls = requests_of(app)
    families = set()
    for method, url in calls:
        body = {} if method in {"POST", "PATCH"} else None
        response = client.request(method, url, json=body, follow_redirects=False)
        assert_hardened(method, url, response.status_code, dict(response.headers), response.text)
        families.add(url.split("/")[1])
    assert {"api", "fhir", "ical", "slack", "static", "schema", "health", "board"} <= families
    assert len(calls) > 150


def test_the_families_answer_as_expected(
    client: TestClient[Litestar], director: Credentials
) -> None:
    """The walk above must reach real answers, not only refusals: a spot check of each."""
    anonymous = {
        "/health": 200,
        "/schema/swagger": 200,
        "/schema/openapi.json": 200,
        "/static/web/rota.js": 200,
        "/api/appointments": 401,
        "/nowhere": 404,
        "/board": 303,
    }
    for url, status in anonymous.items():
        assert client.get(url, follow_redirects=False).status_code == status, url
    signed_in(client, director)
    for url in ("/api/patients/p0050", "/board", "/patients/p0050", "/fhir/r4/Practitioner"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "no-store"


def test_the_openapi_page_runs_no_inline_script(client: TestClient[Litestar]) -> None:
    page = client.get("/schema/swagger").text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert client.get("/static/swagger/swagger-init.js").status_code == 200
    assert client.get("/schema/oauth2-redirect.html").status_code == 404  # an inline script


def test_a_crash_says_nothing_about_the_software(app: Litestar, demo_db: object) -> None:
    secret = "sqlalchemy.exc.OperationalError at /usr/lib/python3.11/site-packages (p0050)"

    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError(secret)

    @get("/boom-page", sync_to_thread=False)
    def boom_page() -> None:
        raise RuntimeError(secret)

    app.register(boom)
    app.register(Router("/web", route_handlers=[boom_page], exception_handlers=WEB_ERRORS))
    with TestClient(app) as client:
        for url, kind in (("/boom", "application/problem+json"), ("/web/boom-page", "text/html")):
            response = client.get(url)
            assert response.status_code == 500
            assert response.headers["content-type"].startswith(kind)
            body = response.text
            assert "RuntimeError" not in body and secret not in body and "p0050" not in body
            assert not [leak for leak in LEAKS if leak.lower() in body.lower()], body
            headers = dict(response.headers)
            assert all(headers.get(name.lower()) == value for name, value in COMMON.items())


def test_cors_is_closed_by_default(client: TestClient[Litestar], director: Credentials) -> None:
    evil = "https://evil.example"
    preflight = client.options(
        "/api/chat",
        headers={
            "Origin": evil,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]
    simple = client.get("/api/patients/p0050", headers={"Origin": evil, **director.bearer})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


def test_cors_opens_only_to_the_origins_a_deployer_names(demo_db: object) -> None:
    from integrations.http.app import create_app

    settings = Hardening.from_env({"ROTA_CORS_ORIGINS": "https://intranet.example.org/"})
    with TestClient(create_app(demo_db, hardening=settings)) as client:  # type: ignore[arg-type]

        def preflight(origin: str) -> dict[str, str]:
            request = {"Origin": origin, "Access-Control-Request-Method": "POST"}
            return dict(client.options("/api/chat", headers=request).headers)

        allowed = preflight("https://intranet.example.org")
        assert allowed["access-control-allow-origin"] == "https://intranet.example.org"
        assert "access-control-allow-credentials" not in allowed  # bearer tokens, not cookies
        assert "access-control-allow-origin" not in preflight("https://evil.example")


@pytest.mark.parametrize("origins", ["*", "intranet.example.org", "https://x.org/path", "ftp://x"])
def test_a_cors_setting_that_is_not_an_origin_is_refused(origins: str) -> None:
    from clinic.errors import InvalidInput

    with pytest.raises(InvalidInput, match="ROTA_CORS_ORIGINS"):
        Hardening.from_env({"ROTA_CORS_ORIGINS": origins})
