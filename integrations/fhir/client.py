"""A small FHIR R4 REST client (httpx, JSON only): read, search with paging, history, conditional
create, update with If-Match, delete.

Configuration (`FhirClient.from_env`): ROTA_FHIR_BASE_URL, and either ROTA_FHIR_TOKEN (a bearer
token) or SMART backend services (ROTA_FHIR_CLIENT_ID, ROTA_FHIR_TOKEN_URL,
ROTA_FHIR_PRIVATE_KEY_FILE; optional ROTA_FHIR_SCOPE and ROTA_FHIR_KEY_ID): a client-credentials
grant with a JWT assertion signed RS384, the access token kept until shortly before it expires.
ROTA_FHIR_TIMEOUT: seconds per request (10).

Every failure is a `FhirError` saying what was asked, what the server answered and, when it sent
one, the OperationOutcome's text. `FhirUnavailable` (no answer, a timeout, 429, 5xx) is worth
retrying; the others (`FhirRejected` and its kinds) are not. Reads are retried here a few
times; writes are not (the outbox retries them, with its backoff).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from clinic.errors import InvalidInput, RotaError

Json = dict[str, Any]
FHIR_JSON = "application/fhir+json"
DEFAULT_TIMEOUT = 10.0
DEFAULT_SCOPE = "system/Appointment.write system/*.read"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_MARGIN = 30.0  # seconds: a token this close to expiring is renewed first
MAX_RETRY_WAIT = 10.0


# --- errors -------------------------------------------------------------------------------------


class FhirError(RotaError):
    """A FHIR request that did not succeed. `status`: the HTTP status (None: no answer);
    `outcome`: the server's OperationOutcome, when it sent one."""

    exit_code = 6
    http_status = 502
    retryable = False
    retry_after: float | None = None  # seconds, when the server said (Retry-After)

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        outcome: Json | None = None,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.status, self.outcome, self.method, self.url = status, outcome, method, url


class FhirUnavailable(FhirError):
    """No answer, a timeout, 429 or 5xx: trying again later may succeed."""

    retryable = True


class FhirRejected(FhirError):
    """The server understood and said no (4xx): trying the same again will not help."""


class FhirAuthError(FhirRejected):
    """401 or 403, or no token could be had."""


class FhirNotFound(FhirRejected):
    """404: no such resource."""


class FhirGone(FhirNotFound):
    """410: the resource was deleted."""


class FhirVersionConflict(FhirRejected):
    """412 (or 409): the resource changed since its ETag was read, or a conditional create
    matched more than one resource."""


def outcome_text(body: Any) -> str | None:
    """An OperationOutcome's issues as one line ("error: ...; warning: ...")."""
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return None
    parts = []
    for issue in body.get("issue") or []:
        words = issue.get("diagnostics") or (issue.get("details") or {}).get("text")
        words = words or issue.get("code") or "no details"
        parts.append(f"{issue.get('severity', 'error')}: {words}")
    return "; ".join(parts) or None


def _error_for(status: int) -> type[FhirError]:
    if status == 429 or status >= 500:
        return FhirUnavailable
    if status in (401, 403):
        return FhirAuthError
    if status == 410:
        return FhirGone
    if status == 404:
        return FhirNotFound
    if status in (409, 412):
        return FhirVersionConflict
    return FhirRejected


# --- answers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A successful answer: the resource (None: the server sent none), status, ETag and
    Location (as the server sent them)."""

    resource: Json | None
    status: int
    etag: str | None
    location: str | None

    @property
    def created(self) -> bool:
        return self.status == 201

    @property
    def logical_id(self) -> str | None:
        if self.resource and self.resource.get("id"):
            return str(self.resource["id"])
        return _from_location(self.location, "id")

    @property
    def version_id(self) -> str | None:
        """The version: meta.versionId, else the ETag's (W/"3" → "3"), else Location's."""
        meta = (self.resource or {}).get("meta") or {}
        if meta.get("versionId"):
            return str(meta["versionId"])
        if self.etag:
            return self.etag.strip().removeprefix("W/").strip('"') or None
        return _from_location(self.location, "version")


def _from_location(location: str | None, part: str) -> str | None:
    """The id ("id") or version ("version") in a Location header: `…/Type/id/_history/vid`."""
    if not location:
        return None
    parts = urlsplit(location).path.rstrip("/").split("/")
    if "_history" in parts:
        i = parts.index("_history")
        found = parts[i - 1] if part == "id" else (parts[i + 1] if i + 1 < len(parts) else "")
        return found or None
    return parts[-1] if part == "id" and len(parts) >= 2 else None


def identifier_search(system: str | None, value: str) -> str:
    """A token search on identifier: `identifier=system|value`."""
    return f"identifier={system}|{value}" if system else f"identifier={value}"


# --- authorization ------------------------------------------------------------------------------


class Auth(Protocol):
    def header(self, http: httpx.Client, *, renew: bool = False) -> str:
        """The Authorization header's value (`renew`: the last one was refused)."""


@dataclass(frozen=True)
class BearerToken:
    token: str

    def header(self, http: httpx.Client, *, renew: bool = False) -> str:
        return f"Bearer {self.token}"


class SmartBackendServices:
    """SMART backend services: a client-credentials grant with a signed JWT assertion (RS384),
    the token kept until `TOKEN_MARGIN` seconds before it expires."""

    def __init__(
        self,
        client_id: str,
        token_url: str,
        private_key: bytes,
        *,
        scope: str = DEFAULT_SCOPE,
        key_id: str | None = None,
        algorithm: str = "RS384",
    ) -> None:
        self.client_id, self.token_url, self.private_key = client_id, token_url, private_key
        self.scope, self.key_id, self.algorithm = scope, key_id, algorithm
        self._token: str | None = None
        self._expires = 0.0

    def assertion(self) -> str:
        try:
            import jwt  # PyJWT (with cryptography for RS384), installed with Rota's dependencies
        except ImportError as exc:  # pragma: no cover - both come with twilio and presidio
            raise FhirAuthError("SMART backend services need PyJWT and cryptography") from exc
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": self.key_id} if self.key_id else None
        return jwt.encode(claims, self.private_key, algorithm=self.algorithm, headers=headers)

    def header(self, http: httpx.Client, *, renew: bool = False) -> str:
        if renew or self._token is None or time.monotonic() >= self._expires:
            self._fetch(http)
        return f"Bearer {self._token}"

    def _fetch(self, http: httpx.Client) -> None:
        form = {
            "grant_type": "client_credentials",
            "scope": self.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(),
        }
        try:
            response = http.post(self.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise FhirUnavailable(
                f"the token endpoint {self.token_url} did not answer: {_describe(exc)}",
                method="POST",
                url=self.token_url,
            ) from exc
        body = _json(response)
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            said = outcome_text(body) or (
                body.get("error_description") or body.get("error")
                if isinstance(body, dict)
                else None
            )
            kind = FhirUnavailable if response.status_code >= 500 else FhirAuthError
            raise kind(
                f"the token endpoint {self.token_url} refused the client credentials "
                f"({response.status_code}{': ' + said if said else ''})",
                status=response.status_code,
                method="POST",
                url=self.token_url,
            )
        self._token = str(body["access_token"])
        lifetime = float(body.get("expires_in") or 300)
        self._expires = time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN)


# --- the client ---------------------------------------------------------------------------------


def configured(env: Mapping[str, str] | None = None) -> bool:
    """Whether a FHIR server is configured (ROTA_FHIR_BASE_URL)."""
    env = os.environ if env is None else env
    return bool(env.get("ROTA_FHIR_BASE_URL", "").strip())


class FhirClient:
    """One FHIR server. Use as a context manager, or `close()` when done."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: Auth | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        read_retries: int = 2,
        retry_wait: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise InvalidInput(f"a FHIR base URL must be http(s)://…, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.read_retries = read_retries
        self.retry_wait = retry_wait
        self.timeout = timeout
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Accept": FHIR_JSON, "User-Agent": "rota-fhir"},
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **options: Any) -> FhirClient:
        """The server the environment names (see the module's docstring)."""
        env = os.environ if env is None else env
        base = env.get("ROTA_FHIR_BASE_URL", "").strip()
        if not base:
            raise InvalidInput("no FHIR server is configured: set ROTA_FHIR_BASE_URL")
        timeout = env.get("ROTA_FHIR_TIMEOUT", "").strip()
        if timeout:
            try:
                options.setdefault("timeout", float(timeout))
            except ValueError as exc:
                raise InvalidInput(f"ROTA_FHIR_TIMEOUT: seconds, not {timeout!r}") from exc
        return cls(base, auth=auth_from_env(env), **options)

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def server(self) -> str:
        """The server's address for logs and audit: scheme, host and path (no credentials)."""
        parts = urlsplit(self.base_url)
        return (
            f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"
        )

    # --- the interactions ----------------------------------------------------------------------

    def read(self, resource_type: str, logical_id: str) -> Answer:
        return self._send("GET", f"{resource_type}/{logical_id}")

    def vread(self, resource_type: str, logical_id: str, version_id: str) -> Answer:
        return self._send("GET", f"{resource_type}/{logical_id}/_history/{version_id}")

    def create(self, resource: Json, *, if_none_exist: str | None = None) -> Answer:
        """POST a resource; with `if_none_exist` (a search, e.g. `identifier_search(...)`) the
        server creates it only when nothing matches (200 and the match when one does)."""
        headers = {"If-None-Exist": if_none_exist} if if_none_exist else {}
        answer = self._send("POST", resource["resourceType"], json=resource, headers=headers)
        return self._with_body(answer)

    def update(self, resource: Json, *, if_match: str | None = None) -> Answer:
        """PUT a resource (it carries its id); with `if_match` (an ETag) only if the server's
        version is still that one (412 → FhirVersionConflict otherwise)."""
        if not resource.get("id"):
            raise InvalidInput("an update needs the resource's id")
        headers = {"If-Match": if_match} if if_match else {}
        path = f"{resource['resourceType']}/{resource['id']}"
        return self._with_body(self._send("PUT", path, json=resource, headers=headers))

    def delete(self, resource_type: str, logical_id: str) -> None:
        self._send("DELETE", f"{resource_type}/{logical_id}")

    def search_pages(
        self,
        resource_type: str,
        params: Mapping[str, Any] | None = None,
        *,
        max_pages: int = 10_000,
    ) -> Iterator[Json]:
        """Each searchset Bundle, following `next` links to the end."""
        yield from self._pages(resource_type, params, max_pages)

    def search(self, resource_type: str, params: Mapping[str, Any] | None = None) -> Iterator[Json]:
        """Every matching resource (included resources are skipped), page after page."""
        for bundle in self.search_pages(resource_type, params):
            for entry in bundle.get("entry") or []:
                if (entry.get("search") or {}).get("mode", "match") == "match" and entry.get(
                    "resource"
                ):
                    yield entry["resource"]

    def history(
        self,
        resource_type: str | None = None,
        *,
        since: str | None = None,
        count: int | None = None,
    ) -> Iterator[Json]:
        """The history entries (newest first, as servers send them; a deletion is an entry with
        request.method DELETE and no resource), page after page."""
        params: dict[str, Any] = {}
        if since:
            params["_since"] = since
        if count:
            params["_count"] = count
        path = f"{resource_type}/_history" if resource_type else "_history"
        for bundle in self._pages(path, params, 10_000):
            yield from bundle.get("entry") or []

    def capabilities(self) -> Json:
        return self._send("GET", "metadata").resource or {}

    # --- plumbing ------------------------------------------------------------------------------

    def _pages(self, path: str, params: Mapping[str, Any] | None, max_pages: int) -> Iterator[Json]:
        url: str | None = f"{self.base_url}/{path}"
        query: Mapping[str, Any] | None = params
        seen: set[str] = set()
        for _ in range(max_pages):
            if url is None:
                return
            bundle = self._send("GET", url, params=query).resource or {}
            if bundle.get("resourceType") != "Bundle":
                raise FhirRejected(
                    f"GET {url} answered a {bundle.get('resourceType')}, not a Bundle",
                    method="GET",
                    url=url,
                )
            yield bundle
            seen.add(url if query is None else f"{url}?{query}")
            url = next(
                (
                    link.get("url")
                    for link in bundle.get("link") or []
                    if link.get("relation") == "next"
                ),
                None,
            )
            query = None  # a next link carries its own query
            if url is not None:
                self._check_same_server(url)
                if url in seen:
                    raise FhirRejected(f"the server's next link repeats a page: {url}", url=url)
        raise FhirRejected(f"{path}: more than {max_pages} pages", url=f"{self.base_url}/{path}")

    def _check_same_server(self, url: str) -> None:
        """A next link elsewhere would receive our token: refused."""
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        if (mine.scheme, mine.netloc) != (theirs.scheme, theirs.netloc):
            raise FhirRejected(
                f"the server's next link points to another server ({theirs.netloc}); not followed",
                url=url,
            )

    def _with_body(self, answer: Answer) -> Answer:
        """A write answered without the resource (Prefer return=minimal ignored): read it."""
        if answer.resource is not None or not answer.location:
            return answer
        read = self._send("GET", answer.location.split("/_history/")[0])
        return Answer(read.resource, answer.status, read.etag or answer.etag, answer.location)

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Json | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Answer:
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path}"
        tries = 1 + (self.read_retries if method == "GET" else 0)
        for attempt in range(1, tries + 1):
            try:
                return self._once(method, url, json, headers or {}, params)
            except FhirUnavailable as exc:
                if attempt == tries:
                    raise
                time.sleep(min(self._wait(exc, attempt), MAX_RETRY_WAIT))
        raise AssertionError("unreachable")

    def _wait(self, exc: FhirUnavailable, attempt: int) -> float:
        if exc.retry_after is not None:
            return exc.retry_after
        return self.retry_wait * 2 ** (attempt - 1)

    def _once(
        self,
        method: str,
        url: str,
        json: Json | None,
        headers: Mapping[str, str],
        params: Mapping[str, Any] | None,
    ) -> Answer:
        sent = dict(headers)
        if json is not None:
            sent["Content-Type"] = FHIR_JSON
            sent["Prefer"] = "return=representation"
        for renew in (False, True):
            if self.auth is not None:
                sent["Authorization"] = self.auth.header(self._http, renew=renew)
            try:
                response = self._http.request(method, url, json=json, headers=sent, params=params)
            except httpx.HTTPError as exc:
                raise FhirUnavailable(
                    f"{method} {url}: {_describe(exc, self.timeout)}", method=method, url=url
                ) from exc
            # A token refused before its time (revoked, clock skew): one fresh one, once.
            if response.status_code != 401 or not isinstance(self.auth, SmartBackendServices):
                break
            if renew:
                break
        return self._answer(method, url, response)

    def _answer(self, method: str, url: str, response: httpx.Response) -> Answer:
        body = _json(response)
        if response.status_code >= 400:
            said = outcome_text(body)
            kind = _error_for(response.status_code)
            error = kind(
                f"{method} {url} answered {response.status_code} {response.reason_phrase}"
                + (f": {said}" if said else ""),
                status=response.status_code,
                outcome=body if said else None,
                method=method,
                url=url,
            )
            retry_after = response.headers.get("Retry-After", "")
            error.retry_after = float(retry_after) if retry_after.isdigit() else None
            raise error
        resource = body if isinstance(body, dict) and body.get("resourceType") else None
        return Answer(
            resource,
            response.status_code,
            response.headers.get("ETag"),
            response.headers.get("Location"),
        )


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _describe(exc: httpx.HTTPError, timeout: float | None = None) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s" if timeout else "timed out"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({exc})"
    return f"{type(exc).__name__}: {exc}"


def auth_from_env(env: Mapping[str, str]) -> Auth | None:
    """ROTA_FHIR_TOKEN, or SMART backend services, or None (an open server)."""
    token = env.get("ROTA_FHIR_TOKEN", "").strip()
    client_id = env.get("ROTA_FHIR_CLIENT_ID", "").strip()
    if token and client_id:
        raise InvalidInput("set ROTA_FHIR_TOKEN or ROTA_FHIR_CLIENT_ID (SMART), not both")
    if token:
        return BearerToken(token)
    if not client_id:
        return None
    token_url = env.get("ROTA_FHIR_TOKEN_URL", "").strip()
    key_file = env.get("ROTA_FHIR_PRIVATE_KEY_FILE", "").strip()
    missing = [
        name
        for name, value in (
            ("ROTA_FHIR_TOKEN_URL", token_url),
            ("ROTA_FHIR_PRIVATE_KEY_FILE", key_file),
        )
        if not value
    ]
    if missing:
        raise InvalidInput(f"SMART backend services also need {' and '.join(missing)}")
    try:
        key = Path(key_file).read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"ROTA_FHIR_PRIVATE_KEY_FILE: cannot read {key_file}: {exc.strerror}"
        ) from exc
    return SmartBackendServices(
        client_id,
        token_url,
        key,
        scope=env.get("ROTA_FHIR_SCOPE", "").strip() or DEFAULT_SCOPE,
        key_id=env.get("ROTA_FHIR_KEY_ID", "").strip() or None,
    )
