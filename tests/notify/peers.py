"""Real protocol peers on loopback: an SMTP server (aiosmtpd) and an HTTP server speaking
the part of Twilio's Messages API the client uses. Shared by the tests and bench/outbox.py."""

from __future__ import annotations

import base64
import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server received: parsed messages, in order."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


class SmtpPeer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpPeer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class TwilioPeer:
    """POST /2010-04-01/Accounts/{sid}/Messages.json, HTTP basic auth, form body; answers 201
    with the message resource like Twilio does (or 500 while `failing`)."""

    def __init__(self, account_sid: str = "AC" + "0" * 32, token: str = "secret") -> None:
        self.account_sid, self.token = account_sid, token
        self.received: list[dict[str, str]] = []
        self.failing = False
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = (
                    "Basic "
                    + base64.b64encode(f"{peer.account_sid}:{peer.token}".encode()).decode()
                )
                path_ok = self.path == f"/2010-04-01/Accounts/{peer.account_sid}/Messages.json"
                if self.headers.get("Authorization") != expected or not path_ok:
                    return self._answer(401, {"code": 20003, "message": "Authenticate"})
                if peer.failing:
                    return self._answer(500, {"code": 20500, "message": "Internal error"})
                form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
                peer.received.append(form)
                sid = f"SM{len(peer.received):032d}"
                return self._answer(
                    201,
                    {
                        "sid": sid,
                        "account_sid": peer.account_sid,
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                        "status": "queued",
                        "num_segments": "1",
                        "direction": "outbound-api",
                        "api_version": "2010-04-01",
                        "uri": f"/2010-04-01/Accounts/{peer.account_sid}/Messages/{sid}.json",
                    },
                )

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def env(self) -> dict[str, str]:
        return {
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.token,
            "ROTA_SMS_FROM": "+15550001111",
            "ROTA_TWILIO_API_URL": self.url,
        }

    def __enter__(self) -> TwilioPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
