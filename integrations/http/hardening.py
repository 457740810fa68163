"""What every response carries and every request is held to, in one place: security headers
(HTML pages, the API, errors, static files, FHIR, Slack, calendar feeds alike), HSTS over TLS,
CORS (closed unless a deployer names origins) and the request body limit.

Settings come from the environment: `ROTA_MAX_BODY_BYTES` (default 1 MiB; no route takes
more: there is no file upload over HTTP) and `ROTA_CORS_ORIGINS` (comma-separated exact
origins such as `https://intranet.example.org`; empty by default, so no browser page of
another site may read a response)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from clinic.errors import InvalidInput

MAX_BODY_ENV = "ROTA_MAX_BODY_BYTES"
CORS_ENV = "ROTA_CORS_ORIGINS"
DEFAULT_MAX_BODY = 1024 * 1024

# Scripts only from this site (no inline script, no CDN); styles may be set inline (positions
# of blocks on the board, Swagger UI's own style element). Never framed.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
# Anything that is not a page (JSON, FHIR, iCalendar, problem details, assets) loads nothing
# if a browser is tricked into rendering it.
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
HSTS = "max-age=31536000; includeSubDomains"
STATIC_PREFIX = "/static/"

# The same on every response. no-referrer: page URLs name patients (/patients/p0050), and
# nothing in Rota reads the Referer header (CSRF is a session token), so no URL ever leaves
# the browser in one, not even to this site's own proxies' logs.
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors' predecessor, for old browsers
}


@dataclass(frozen=True)
class Hardening:
    max_body_bytes: int = DEFAULT_MAX_BODY
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Hardening:
        env = os.environ if env is None else env
        return cls(
            max_body_bytes=_positive_int(env, MAX_BODY_ENV, DEFAULT_MAX_BODY),
            cors_origins=_origins(env.get(CORS_ENV, "")),
        )

    def cors(self) -> CORSConfig | None:
        """None (no CORS middleware: no Access-Control-* header for anyone) unless origins are
        named. Credentials are never allowed: the API takes a bearer token, and the web
        session's cookie must stay usable only by this site's own pages."""
        if not self.cors_origins:
            return None
        return CORSConfig(
            allow_origins=list(self.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
        )


async def security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook: set the headers on every response's start, whatever answered
    (a handler, an exception handler, the static files, Litestar's own 404 and 405)."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers.update(COMMON)
    html = (headers.get("content-type") or "").startswith("text/html")
    headers["Content-Security-Policy"] = PAGE_CSP if html else OTHER_CSP
    if not scope.get("path", "").startswith(STATIC_PREFIX):
        headers["Cache-Control"] = "no-store"  # pages and answers may name patients
    if scope.get("scheme") == "https":  # never over plain HTTP (RFC 6797 §7.2)
        headers["Strict-Transport-Security"] = HSTS


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(f"{name} must be a whole number of bytes of at least 1, not {raw!r}")
    return int(raw)


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path:
            raise InvalidInput(
                f"{CORS_ENV}: {origin!r} is not an origin such as https://intranet.example.org"
                " (a scheme and a host, no path; '*' is not accepted: patient data)"
            )
    return origins
