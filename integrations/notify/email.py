"""Email over SMTP (smtplib): `ROTA_SMTP_URL` such as smtp://user:pass@host:587?starttls=true
(smtps://… for implicit TLS), `ROTA_MAIL_FROM` the sender's address."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from assistant.outbox import Outgoing
from clinic.errors import InvalidInput

TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    implicit_tls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSender:
        return cls.from_url(env["ROTA_SMTP_URL"], env.get("ROTA_MAIL_FROM", ""))

    @classmethod
    def from_url(cls, url: str, sender: str) -> SmtpSender:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise InvalidInput(
                f"ROTA_SMTP_URL must look like smtp://user:pass@host:587?starttls=true, not {parts.scheme or url!r}",
                problems=["$.ROTA_SMTP_URL: smtp:// or smtps:// with a host"],
            )
        if "@" not in sender:
            raise InvalidInput(
                "ROTA_MAIL_FROM must be the sender's email address",
                problems=["$.ROTA_MAIL_FROM: an email address"],
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            sender=sender,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=query.get("starttls", "").lower() in TRUE,
            implicit_tls=implicit,
        )

    def __call__(self, message: Outgoing) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject or "Appointment"
        # The outbox key as Message-ID: a re-sent copy is recognisably the same message.
        mail["Message-ID"] = make_msgid(
            idstring=_safe(message.key), domain=self.sender.split("@")[1]
        )
        mail.set_content(message.body)
        connect = smtplib.SMTP_SSL if self.implicit_tls else smtplib.SMTP
        with connect(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(mail)


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "." for c in key)[:60]
