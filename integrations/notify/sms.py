"""SMS through Twilio's Messages API (the `twilio` client): `TWILIO_ACCOUNT_SID`,
`TWILIO_AUTH_TOKEN`, `ROTA_SMS_FROM` (the sending number or messaging service), and
`ROTA_TWILIO_API_URL` to point the client at another base URL (a local test server)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twilio.rest import Client

from assistant.outbox import Outgoing
from clinic.errors import InvalidInput


@dataclass
class TwilioSender:
    account_sid: str
    auth_token: str
    sender: str
    api_url: str | None = None
    _client: Any = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TwilioSender:
        sender = env.get("ROTA_SMS_FROM", "")
        if not sender:
            raise InvalidInput(
                "ROTA_SMS_FROM must name the sending number (or MG… messaging service)",
                problems=["$.ROTA_SMS_FROM: required with TWILIO_ACCOUNT_SID"],
            )
        return cls(
            env["TWILIO_ACCOUNT_SID"],
            env["TWILIO_AUTH_TOKEN"],
            sender,
            env.get("ROTA_TWILIO_API_URL") or None,
        )

    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.account_sid, self.auth_token)
            if self.api_url:  # the Api domain's base URL (https://api.twilio.com by default)
                self._client.api.base_url = self.api_url.rstrip("/")
        return self._client

    def __call__(self, message: Outgoing) -> None:
        sender = (
            {"messaging_service_sid": self.sender}
            if self.sender.startswith("MG")
            else {"from_": self.sender}
        )
        self.client().messages.create(to=message.recipient, body=message.body, **sender)
