"""A local HTTP server standing in for Slack's Web API (ROTA_SLACK_API_URL points at it).

It records every call (method, arguments, when) and can be told to fail the next calls of a
method: an HTTP status with a Slack error, a 429 with Retry-After, or a slow answer.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER = "UROTABOT"
TEAM = "T0ROTA"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    answer: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    ok: bool = True
    """False for a scripted failure (even one answered with HTTP 200, as Slack does)."""

    @property
    def channel(self) -> str:
        return str(self.args.get("channel", ""))

    def texts(self) -> str:
        """Everything a person could read in this message (text and blocks)."""
        parts = [str(self.args.get("text", ""))]
        blocks = self.args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        parts.append(json.dumps(blocks, ensure_ascii=False))
        return "\n".join(parts)


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None = None
    delay: float = 0.0


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._lock = threading.Lock()
        self._ts = 1_700_000_000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, *args: Any) -> None:  # quiet
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- scripting -----------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        times: int = 1,
        *,
        status: int = 500,
        error: str = "internal_error",
        retry_after: int | None = None,
        delay: float = 0.0,
    ) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend(
                [_Failure(status, error, retry_after, delay)] * times
            )

    def recover(self) -> None:
        """Forget every scripted failure still queued."""
        with self._lock:
            self._failures.clear()

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.ok]

    def attempts(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def messages(self) -> list[Call]:
        """Every message the bot succeeded in showing someone (posts, ephemerals, updates)."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.ok and c.method in {"chat.postMessage", "chat.postEphemeral", "chat.update"}
            ]

    # -- serving -------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        method = request.path.split("?", 1)[0].rsplit("/", 1)[-1]
        length = int(request.headers.get("content-length") or 0)
        raw = request.rfile.read(length).decode("utf-8") if length else ""
        if "json" in (request.headers.get("content-type") or ""):
            args = json.loads(raw or "{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw).items()}
        with self._lock:
            queue = self._failures.get(method) or []
            failure = queue.pop(0) if queue else None
            call = Call(
                method,
                args,
                time.monotonic(),
                status=failure.status if failure else 200,
                ok=failure is None,
            )
            self.calls.append(call)
        if failure is not None:
            call.status = failure.status
            if failure.delay:
                time.sleep(failure.delay)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            self._reply(request, failure.status, {"ok": False, "error": failure.error}, headers)
            return
        answer = self._answer(method, args)
        call.answer = answer
        self._reply(request, 200, answer, {})

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "team_id": TEAM, "user_id": BOT_USER, "bot_id": "BROTA"}
        if method == "conversations.open":
            user = str(args.get("users", "")).split(",")[0]
            return {"ok": True, "channel": {"id": "D" + user[1:]}}
        if method in {"chat.postMessage", "chat.postEphemeral"}:
            with self._lock:
                self._ts += 1
                ts = f"{self._ts}.000100"
            key = "message_ts" if method == "chat.postEphemeral" else "ts"
            return {"ok": True, "channel": args.get("channel"), key: ts}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        return {"ok": True}

    @staticmethod
    def _reply(
        request: BaseHTTPRequestHandler, status: int, body: dict[str, Any], headers: dict[str, str]
    ) -> None:
        data = json.dumps(body).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json; charset=utf-8")
            request.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                request.send_header(name, value)
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)
