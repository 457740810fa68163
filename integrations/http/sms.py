"""Patients' SMS replies (Twilio's webhook) and the replies a case manager reads.

POST /api/sms/inbound is called by Twilio, not a person: its authority is the
X-Twilio-Signature header, checked with TWILIO_AUTH_TOKEN over the public URL Twilio called
(`ROTA_SMS_WEBHOOK_URL` when Rota sits behind a proxy, else the request's own URL).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl

import anyio
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from twilio.request_validator import RequestValidator

from assistant.usecases import outbox as outbox_usecases
from clinic.db import Database
from clinic.timeutil import parse_datetime
from clinic.tokens import Caller
from integrations.http.api import ApiController, webhook_operation
from integrations.http.fields import when_query

EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _forbidden(text: str, status: int = 403) -> Response[bytes]:
    return Response(text.encode(), status_code=status, media_type="text/plain")


@post(
    "/api/sms/inbound",
    status_code=200,
    tags=["webhooks"],
    security=[{"twilioSignature": []}],
    operation_class=webhook_operation(
        requests=("application/x-www-form-urlencoded",),
        answers={
            200: ("application/xml",),
            403: ("text/plain",),
            404: ("application/problem+json",),  # an X-Rota-Facility this server lacks
            503: ("text/plain",),
        },
    ),
)
async def sms_inbound(
    request: Request[Any, Any, Any], db: NamedDependency[Database]
) -> Response[bytes]:
    """Twilio's webhook: a patient's SMS reply (form fields From, Body, MessageSid), signed;
    answered with empty TwiML. 503 when TWILIO_AUTH_TOKEN is not set on this server."""
    token = os.environ.get("TWILIO_AUTH_TOKEN")
    if not token:
        return _forbidden("SMS replies are not configured (TWILIO_AUTH_TOKEN)", 503)
    # Undecodable bytes cannot carry a valid signature: replaced, then refused (403), not a 500.
    text = (await request.body()).decode("utf-8", errors="replace")
    params = dict(parse_qsl(text, keep_blank_values=True))
    url = os.environ.get("ROTA_SMS_WEBHOOK_URL") or str(request.url)
    signature = request.headers.get("x-twilio-signature", "")
    if not RequestValidator(token).validate(url, params, signature):
        return _forbidden("bad or missing X-Twilio-Signature")
    reply = outbox_usecases.RecordReply(
        phone=params.get("From", ""),
        body=params.get("Body", ""),
        message_id=params.get("MessageSid", ""),
    )
    await anyio.to_thread.run_sync(outbox_usecases.record_reply, db, reply)
    return Response(EMPTY_TWIML, media_type="application/xml")


class ReplyController(ApiController):
    path = "/api/sms/replies"
    tags = ["messages"]

    @get("/", sync_to_thread=True)
    def list_replies(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        since: str | None = when_query("since", "Only replies received from then on"),
    ) -> list[dict[str, Any]]:
        """Patients' answers to reminders (confirm, callback), newest first."""
        after = parse_datetime(since, db.facility_tz()) if since else None
        rows = outbox_usecases.replies(db, caller, since=after)
        return [outbox_usecases.as_record(r) for r in rows]


__all__ = ["ReplyController", "sms_inbound"]
