"""The outbox's channels: email over SMTP, SMS through Twilio, and FHIR write-back to the EHR.
`configure()` reads the environment once and hands the adapters it can build to the outbox
(assistant.outbox) and the FHIR sender to the write-back job (assistant.fhir_writeback); a
channel that is not configured is not sent on, and its messages wait in the outbox."""

from __future__ import annotations

import os
from collections.abc import Mapping

from assistant import outbox
from integrations.fhir import writeback
from integrations.notify.email import SmtpSender
from integrations.notify.sms import TwilioSender


def from_env(env: Mapping[str, str] | None = None) -> dict[str, outbox.Sender]:
    env = os.environ if env is None else env
    channels: dict[str, outbox.Sender] = {}
    if env.get("ROTA_SMTP_URL"):
        channels["email"] = SmtpSender.from_env(env)
    if env.get("TWILIO_ACCOUNT_SID") and env.get("TWILIO_AUTH_TOKEN"):
        channels["sms"] = TwilioSender.from_env(env)
    return channels


def configure(env: Mapping[str, str] | None = None) -> list[str]:
    """Give the outbox the channels the environment configures; their names ("fhir" when a
    FHIR server is configured: ROTA_FHIR_BASE_URL)."""
    channels = from_env(env)
    outbox.use_senders(channels)
    fhir = writeback.configure(env)
    return sorted([*channels, *(["fhir"] if fhir else [])])
