"""A FHIR R4 server for tests: real HTTP on 127.0.0.1 (a random port), in a thread, resources in
memory. Enough of the REST API for Rota's client, import and write-back: read, vread, create,
conditional create (If-None-Exist), update with If-Match (412 on a stale ETag), delete (410 on
read after), search by `_id`, `identifier`, `status` and `_lastUpdated` with `_count` paging and
`next` links, type-level and system-level `_history` (deletions included), and a SMART
backend-services token endpoint. Faults on demand: `fail_next(2)` answers the next two requests
with 503, `lose_answer_next(1)` does the next one but answers 504, `slow_next(1, 2.0)` makes
the next one wait.

The standard library's threading HTTP server: no event loop to share with the code under test,
and it starts in milliseconds. `fhir_server` is the pytest fixture (tests/conftest.py imports it).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

Json = dict[str, Any]
FHIR_JSON = "application/fhir+json"
SEARCH_PARAMS = {"_id", "identifier", "status", "_lastUpdated", "_count", "_offset"}


@dataclass(frozen=True)
class Seen:
    """One request as the server received it (headers lower-cased)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Json | None


@dataclass
class _Version:
    resource: Json | None  # None: this version is the deletion
    at: datetime


@dataclass
class _Record:
    type: str
    id: str
    versions: list[_Version] = field(default_factory=list)

    @property
    def current(self) -> Json | None:
        return self.versions[-1].resource

    @property
    def version(self) -> int:
        return len(self.versions)

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'


class Reply(Exception):
    """An answer other than success: a status and an OperationOutcome."""

    def __init__(self, status: int, text: str, code: str = "processing") -> None:
        super().__init__(text)
        self.status, self.text, self.code = status, text, code


def outcome(text: str, code: str = "processing", severity: str = "error") -> Json:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }


class FhirTestServer:
    """In-memory FHIR server. `token`: the bearer token every FHIR request must carry (None: no
    auth); `smart_public_key` (PEM): the key that signs SMART client assertions, whose token
    endpoint `token_url` then hands out tokens valid for `token_lifetime` seconds."""

    def __init__(
        self,
        *,
        token: str | None = None,
        smart_public_key: bytes | None = None,
        smart_client_id: str = "rota",
        token_lifetime: int = 300,
        clock: Callable[[], datetime] | None = None,
        default_count: int = 50,
    ) -> None:
        self.token = token
        self.smart_public_key = smart_public_key
        self.smart_client_id = smart_client_id
        self.token_lifetime = token_lifetime
        self.default_count = default_count
        self.clock = clock or (lambda: datetime.now(UTC))
        self.seen: list[Seen] = []
        self.tokens_issued: list[str] = []
        self._store: dict[tuple[str, str], _Record] = {}
        self._history: list[tuple[_Record, int]] = []  # (record, version number), oldest first
        self._lock = threading.RLock()
        self._faults: list[tuple[int, float]] = []  # (status or 0, delay) per coming request
        self._last_at: datetime | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life ----------------------------------------------------------------------------------

    def start(self) -> FhirTestServer:
        server = self

        class Handler(_Handler):
            fhir = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FhirTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        assert self._httpd is not None, "start the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/fhir"

    @property
    def token_url(self) -> str:
        return f"{self.origin}/auth/token"

    # --- faults --------------------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 503) -> None:
        """The next `n` requests (token requests included) answer `status` and change nothing."""
        with self._lock:
            self._faults.extend([(status, 0.0)] * n)

    def lose_answer_next(self, n: int, status: int = 504) -> None:
        """The next `n` requests are carried out, but answered `status` (a gateway that timed
        out after the server did the work: the client cannot know it was done)."""
        with self._lock:
            self._faults.extend([(-status, 0.0)] * n)

    def slow_next(self, n: int, seconds: float) -> None:
        """The next `n` requests wait `seconds` before being handled."""
        with self._lock:
            self._faults.extend([(0, seconds)] * n)

    def _next_fault(self) -> tuple[int, float] | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    # --- the store, directly (what "someone else changed it on the EHR" looks like) -------------

    def put(self, resource: Json) -> Json:
        """Store `resource` as a new version (creating it, with a fresh id when it has none);
        what was stored, with its meta."""
        with self._lock:
            resource = dict(resource)
            resource.setdefault("id", uuid.uuid4().hex[:16])
            record = self._store.setdefault(
                (resource["resourceType"], resource["id"]),
                _Record(resource["resourceType"], resource["id"]),
            )
            return self._add_version(record, resource)

    def remove(self, resource_type: str, logical_id: str) -> None:
        with self._lock:
            record = self._store.get((resource_type, logical_id))
            if record is not None and record.current is not None:
                self._add_version(record, None)

    def get(self, resource_type: str, logical_id: str) -> Json | None:
        """The current version (None: never existed or deleted)."""
        with self._lock:
            record = self._store.get((resource_type, logical_id))
            return None if record is None else record.current

    def all(self, resource_type: str) -> list[Json]:
        """Every current (not deleted) resource of a type, oldest first."""
        with self._lock:
            return [
                r.current
                for (t, _), r in self._store.items()
                if t == resource_type and r.current is not None
            ]

    def requests(self, method: str | None = None, resource_type: str | None = None) -> list[Seen]:
        """The FHIR requests received (not the token requests), optionally of one method and
        resource type."""
        return [
            s
            for s in self.seen
            if s.path.startswith("/fhir/")
            and (method is None or s.method == method)
            and (resource_type is None or s.path.split("/")[2] == resource_type)
        ]

    def _add_version(self, record: _Record, resource: Json | None) -> Json:
        at = self.clock()
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)  # meta.lastUpdated's precision
        if self._last_at is not None and at <= self._last_at:
            at = self._last_at + timedelta(milliseconds=1)  # strictly increasing lastUpdated
        self._last_at = at
        if resource is not None:
            resource = {
                **resource,
                "id": record.id,
                "meta": {
                    **(resource.get("meta") or {}),
                    "versionId": str(record.version + 1),
                    "lastUpdated": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                },
            }
        record.versions.append(_Version(resource, at))
        self._history.append((record, record.version))
        return resource or {}

    # --- the REST API --------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Json | None,
    ) -> tuple[int, dict[str, str], Json | None]:
        self.seen.append(Seen(method, path, query, headers, body))
        fault = self._next_fault() or (0, 0.0)
        status, delay = fault
        time.sleep(delay)
        if status > 0:
            raise Reply(status, f"injected fault ({status})", "transient")
        answer = self._answer(method, path, query, headers, body)
        if status < 0:
            raise Reply(-status, f"injected fault after the work was done ({-status})", "timeout")
        return answer

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Json | None,
    ) -> tuple[int, dict[str, str], Json | None]:
        if path == "/auth/token" and method == "POST":
            return 200, {}, self._token(query)
        if not path.startswith("/fhir"):
            raise Reply(404, f"no such path {path}", "not-found")
        self._check_auth(headers)
        parts = [p for p in path.removeprefix("/fhir").split("/") if p]
        with self._lock:
            return self._route(method, parts, query, headers, body)

    def _route(
        self,
        method: str,
        parts: list[str],
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Json | None,
    ) -> tuple[int, dict[str, str], Json | None]:
        if parts == ["metadata"] and method == "GET":
            return 200, {}, self._capability()
        if parts == ["_history"] and method == "GET":
            return 200, {}, self._history_bundle(None, query)
        if len(parts) == 1 and method == "GET":
            return 200, {}, self._search(parts[0], query)
        if len(parts) == 1 and method == "POST":
            return self._create(parts[0], headers, body)
        if len(parts) == 2 and parts[1] == "_history" and method == "GET":
            return 200, {}, self._history_bundle(parts[0], query)
        if len(parts) == 2 and method == "GET":
            record = self._existing(parts[0], parts[1])
            return 200, self._version_headers(record), record.current
        if len(parts) == 2 and method == "PUT":
            return self._update(parts[0], parts[1], headers, body)
        if len(parts) == 2 and method == "DELETE":
            record = self._store.get((parts[0], parts[1]))
            if record is not None and record.current is not None:
                self._add_version(record, None)
            return 204, {}, None
        if len(parts) == 4 and parts[2] == "_history" and method == "GET":
            record = self._store.get((parts[0], parts[1]))
            if record is None or not parts[3].isdigit() or not 0 < int(parts[3]) <= record.version:
                raise Reply(404, f"no version {parts[3]} of {parts[0]}/{parts[1]}", "not-found")
            found = record.versions[int(parts[3]) - 1].resource
            if found is None:
                raise Reply(
                    410, f"version {parts[3]} of {parts[0]}/{parts[1]} is a deletion", "deleted"
                )
            return 200, {"ETag": f'W/"{parts[3]}"'}, found
        raise Reply(
            405 if len(parts) <= 4 else 404, f"{method} /{'/'.join(parts)} is not supported"
        )

    def _check_auth(self, headers: dict[str, str]) -> None:
        if self.token is None and self.smart_public_key is None:
            return  # an open server
        accepted = {self.token, *self.tokens_issued} - {None}
        given = headers.get("authorization", "")
        if not given.lower().startswith("bearer ") or given[7:] not in accepted:
            raise Reply(401, "a valid bearer token is required", "login")

    def _token(self, query: dict[str, list[str]]) -> Json:
        import jwt  # the test server's SMART half needs PyJWT; only the tests that use it load it

        form = {k: v[-1] for k, v in query.items()}
        if self.smart_public_key is None:
            raise Reply(404, "this server has no token endpoint", "not-supported")
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_assertion_type")
            != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            raise Reply(400, "client_credentials with a JWT assertion expected", "invalid")
        try:
            claims = jwt.decode(
                form.get("client_assertion", ""),
                self.smart_public_key,
                algorithms=["RS384"],
                audience=self.token_url,
                issuer=self.smart_client_id,
            )
        except jwt.PyJWTError as exc:
            raise Reply(401, f"bad client assertion: {exc}", "login") from exc
        if claims.get("sub") != self.smart_client_id or not claims.get("jti"):
            raise Reply(401, "bad client assertion: sub or jti", "login")
        token = secrets.token_urlsafe(16)
        self.tokens_issued.append(token)
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.token_lifetime,
            "scope": form.get("scope", ""),
        }

    def _existing(self, resource_type: str, logical_id: str) -> _Record:
        record = self._store.get((resource_type, logical_id))
        if record is None:
            raise Reply(404, f"{resource_type}/{logical_id} is not known", "not-found")
        if record.current is None:
            raise Reply(410, f"{resource_type}/{logical_id} was deleted", "deleted")
        return record

    def _version_headers(self, record: _Record) -> dict[str, str]:
        current = record.current or {}
        return {
            "ETag": record.etag,
            "Last-Modified": current.get("meta", {}).get("lastUpdated", ""),
            "Location": f"{self.base_url}/{record.type}/{record.id}/_history/{record.version}",
        }

    def _create(
        self, resource_type: str, headers: dict[str, str], body: Json | None
    ) -> tuple[int, dict[str, str], Json | None]:
        resource = _body_of(resource_type, body)
        condition = headers.get("if-none-exist")
        if condition:
            matches = self._matches(resource_type, dict(_query(condition)))
            if len(matches) > 1:
                raise Reply(412, f"{len(matches)} resources match {condition!r}", "duplicate")
            if matches:
                return 200, self._version_headers(matches[0]), matches[0].current
        resource.pop("id", None)
        logical_id = uuid.uuid4().hex[:16]
        record = self._store.setdefault(
            (resource_type, logical_id), _Record(resource_type, logical_id)
        )
        stored = self._add_version(record, resource)
        return 201, self._version_headers(record), stored

    def _update(
        self, resource_type: str, logical_id: str, headers: dict[str, str], body: Json | None
    ) -> tuple[int, dict[str, str], Json | None]:
        resource = _body_of(resource_type, body)
        if resource.get("id") != logical_id:
            raise Reply(400, f"the resource's id must be {logical_id!r}", "invalid")
        record = self._store.get((resource_type, logical_id))
        if_match = headers.get("if-match")
        if if_match is not None:
            current = None if record is None or record.current is None else record.etag
            if current is None or _weak(if_match) != _weak(current):
                raise Reply(
                    412,
                    f"{resource_type}/{logical_id} is at version {current or 'none'}, "
                    f"not {if_match}",
                    "conflict",
                )
        created = record is None or record.current is None
        record = record or self._store.setdefault(
            (resource_type, logical_id), _Record(resource_type, logical_id)
        )
        stored = self._add_version(record, resource)
        return (201 if created else 200), self._version_headers(record), stored

    # --- search --------------------------------------------------------------------------------

    def _matches(self, resource_type: str, params: dict[str, list[str]]) -> list[_Record]:
        unknown = set(params) - SEARCH_PARAMS
        if unknown:
            raise Reply(400, f"unsupported search parameter(s): {', '.join(sorted(unknown))}")
        found = [
            r for (t, _), r in self._store.items() if t == resource_type and r.current is not None
        ]
        for name, values in params.items():
            for value in values:
                if name == "_id":
                    found = [r for r in found if r.id in value.split(",")]
                elif name == "identifier":
                    found = [r for r in found if _has_identifier(r.current or {}, value)]
                elif name == "status":
                    found = [
                        r for r in found if (r.current or {}).get("status") in value.split(",")
                    ]
                elif name == "_lastUpdated":
                    found = [r for r in found if _compare(r.versions[-1].at, value)]
        return sorted(found, key=lambda r: (r.versions[-1].at, r.id))

    def _search(self, resource_type: str, query: dict[str, list[str]]) -> Json:
        count, offset = _paging(query, self.default_count)
        params = {k: v for k, v in query.items() if k not in {"_count", "_offset"}}
        matches = self._matches(resource_type, params)
        page = matches[offset : offset + count]
        entries = [
            {
                "fullUrl": f"{self.base_url}/{resource_type}/{r.id}",
                "resource": r.current,
                "search": {"mode": "match"},
            }
            for r in page
        ]
        return self._bundle(
            "searchset", f"/{resource_type}", query, len(matches), entries, count, offset
        )

    def _history_bundle(self, resource_type: str | None, query: dict[str, list[str]]) -> Json:
        count, offset = _paging(query, self.default_count)
        since = query.get("_since", [None])[-1]
        unknown = set(query) - {"_since", "_count", "_offset"}
        if unknown:
            raise Reply(400, f"unsupported _history parameter(s): {', '.join(sorted(unknown))}")
        items = [
            (record, n)
            for record, n in reversed(self._history)  # newest first, as the spec says
            if (resource_type is None or record.type == resource_type)
            and (since is None or record.versions[n - 1].at >= _instant(since))
        ]
        entries = []
        for record, n in items[offset : offset + count]:
            version = record.versions[n - 1]
            url = f"{record.type}/{record.id}"
            entry: Json = {"fullUrl": f"{self.base_url}/{url}"}
            if version.resource is None:
                entry["request"] = {"method": "DELETE", "url": url}
                entry["response"] = {"status": "410 Gone"}
            else:
                entry["resource"] = version.resource
                entry["request"] = {"method": "POST" if n == 1 else "PUT", "url": url}
                entry["response"] = {"status": "201 Created" if n == 1 else "200 OK"}
            entries.append(entry)
        path = f"/{resource_type}/_history" if resource_type else "/_history"
        return self._bundle("history", path, query, len(items), entries, count, offset)

    def _bundle(
        self,
        kind: str,
        path: str,
        query: dict[str, list[str]],
        total: int,
        entries: list[Json],
        count: int,
        offset: int,
    ) -> Json:
        def link(relation: str, at: int) -> Json:
            params = [(k, v) for k, vs in query.items() if k != "_offset" for v in vs]
            params += [("_count", str(count))] if "_count" not in query else []
            params.append(("_offset", str(at)))
            return {"relation": relation, "url": f"{self.base_url}{path}?{urlencode(params)}"}

        links = [link("self", offset)]
        if offset + count < total:
            links.append(link("next", offset + count))
        if offset > 0:
            links.append(link("previous", max(0, offset - count)))
        return {
            "resourceType": "Bundle",
            "id": uuid.uuid4().hex[:16],
            "type": kind,
            "total": total,
            "link": links,
            "entry": entries,
        }

    def _capability(self) -> Json:
        return {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-01-01",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [{"mode": "server"}],
        }


class _Handler(BaseHTTPRequestHandler):
    fhir: FhirTestServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
        pass

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        query: dict[str, list[str]] = {}
        for k, v in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(k, []).append(v)
        try:
            body: Json | None = None
            if raw and headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                for k, v in parse_qsl(raw.decode(), keep_blank_values=True):
                    query.setdefault(k, []).append(v)
            elif raw:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise Reply(400, f"the body is not JSON: {exc}", "structure") from exc
            status, extra, answer = self.fhir.handle(self.command, parts.path, query, headers, body)
        except Reply as reply:
            status, extra, answer = reply.status, {}, outcome(reply.text, reply.code)
        except Exception as exc:  # a bug in the test server: say so rather than hang
            status, extra, answer = 500, {}, outcome(f"test server error: {exc!r}", "exception")
        data = json.dumps(answer).encode() if answer is not None else b""
        self.send_response(status)
        content_type = "application/json" if parts.path == "/auth/token" else FHIR_JSON
        if data:
            self.send_header("Content-Type", content_type)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


def _body_of(resource_type: str, body: Json | None) -> Json:
    if not isinstance(body, dict) or body.get("resourceType") != resource_type:
        raise Reply(400, f"the body must be a {resource_type} resource", "invalid")
    return dict(body)


def _query(text: str) -> Iterator[tuple[str, list[str]]]:
    grouped: dict[str, list[str]] = {}
    for k, v in parse_qsl(text.lstrip("?"), keep_blank_values=True):
        grouped.setdefault(k, []).append(v)
    yield from grouped.items()


def _paging(query: dict[str, list[str]], default: int) -> tuple[int, int]:
    try:
        count = int(query.get("_count", [default])[-1])
        offset = int(query.get("_offset", [0])[-1])
    except ValueError as exc:
        raise Reply(400, "_count and _offset must be whole numbers", "invalid") from exc
    if count < 1 or offset < 0:
        raise Reply(400, "_count must be at least 1", "invalid")
    return count, offset


def _has_identifier(resource: Json, token: str) -> bool:
    """FHIR token search: `system|value`, `|value` (no system), `system|` or `value`."""
    for wanted in token.split(","):
        system, bar, value = wanted.rpartition("|")
        for identifier in resource.get("identifier") or []:
            if not bar:
                ok = identifier.get("value") == value
            elif not value:
                ok = identifier.get("system") == system
            else:
                ok = identifier.get("value") == value and (identifier.get("system") or "") == system
            if ok:
                return True
    return False


_PREFIXES = ("eq", "ne", "gt", "ge", "lt", "le")


def _instant(text: str) -> datetime:
    """A FHIR dateTime as an instant (a date alone: its start, UTC)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _compare(at: datetime, condition: str) -> bool:
    prefix = condition[:2] if condition[:2] in _PREFIXES else "eq"
    try:
        value = _instant(condition[2:] if condition[:2] in _PREFIXES else condition)
    except ValueError as exc:
        raise Reply(400, f"_lastUpdated: {condition!r} is not a date-time", "invalid") from exc
    return {
        "eq": at == value,
        "ne": at != value,
        "gt": at > value,
        "ge": at >= value,
        "lt": at < value,
        "le": at <= value,
    }[prefix]


def _weak(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


@pytest.fixture()
def fhir_server() -> Iterator[FhirTestServer]:
    """A FHIR server on 127.0.0.1 for one test (no auth; see FhirTestServer for the options)."""
    with FhirTestServer() as server:
        yield server
