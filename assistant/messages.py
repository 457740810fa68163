"""A message to a patient: judged as a disclosure, then queued in the outbox (or refused).

Only over the channel the patient chose (`contact.channel`: sms or email, with its address);
the consent pack decides whether it may go (PRIV-REMINDER-OPT-IN: only to patients who opted
in), and every judgment is audited like `assistant.disclosure.disclose` does. A refused message
is recorded under its key too, so it is judged and audited once, not at every run of a job.

The words carry a time, a place and a callback number only (42 CFR Part 2): no facility type,
diagnosis or program name; the place and number come from configuration, never the room.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import outbox
from assistant.disclosure import Disclose, judge
from clinic.audit import append_event
from clinic.models import Patient
from clinic.outbox_models import OutboxMessage
from rules.policy import to_policy_decision

ACTOR = "reminders"  # the permissions pack's `notifier`: may disclose a time and a place
ADDRESS_FIELD = {"sms": "phone", "email": "email"}


def clinic_details() -> dict[str, str]:
    """Where and whom to call, as the facility configured them (ROTA_CLINIC_ADDRESS,
    ROTA_CALLBACK_NUMBER); neutral words when they are not set."""
    return {
        "place": os.environ.get("ROTA_CLINIC_ADDRESS") or "the usual address",
        "callback": os.environ.get("ROTA_CALLBACK_NUMBER") or "call the front desk",
    }


def when(start: datetime, tz: ZoneInfo) -> str:
    local = start.astimezone(tz)
    return f"{local:%a %d %b} at {local:%H:%M}"


def to_patient(
    session: Session,
    patient: Patient,
    *,
    template: str,
    context: Mapping[str, Any],
    key: str,
    appointment_ids: Sequence[str],
    now: datetime,
    purpose: str,
) -> str:
    """queued | duplicate | refused | no_channel (the patient chose no channel we send on)."""
    contact = patient.contact or {}
    channel = contact.get("channel")
    address = contact.get(ADDRESS_FIELD.get(str(channel), ""), "")
    if channel not in outbox.CHANNELS or not address:
        return "no_channel"
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return "duplicate"  # judged before: neither judged nor audited again
    cmd = Disclose(
        actor=ACTOR,
        channel=channel,
        recipient="patient",
        patients=(patient.id,),
        content="schedule",
        purpose=purpose,
    )
    decision = judge(cmd, session, now=now)
    append_event(
        session,
        actor=cmd.actor,
        action="disclosure" if decision.allowed else "disclosure.refused",
        entity_type="patient",
        entity_id=patient.id,
        after={**cmd.record(), "template": template, "appointments": list(appointment_ids)},
        reason=purpose,
        decision=to_policy_decision(decision).as_record(),
    )
    queued = outbox.enqueue(
        session,
        channel=channel,
        recipient=address,
        template=template,
        context={**clinic_details(), **context},
        key=key,
        appointment_ids=appointment_ids,
        patient=patient.id,
        now=now,
        status="pending" if decision.allowed else "refused",
    )
    if not queued:
        return "duplicate"
    return "queued" if decision.allowed else "refused"
