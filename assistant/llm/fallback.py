"""Understanding with a model as a fallback: when the rules are unsure, the gateway sees the
redacted message and answers with *spans* of it; local code turns spans and placeholders into
roster ids and times. The model never sees, and never resolves, an identifier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.llm.gateway import Gateway
from assistant.parse import parse, parser_for, times
from assistant.parse.names import index_for
from assistant.phi import PlaceholderMap, Redaction, redactor_for
from assistant.roster import Roster

CONFIDENCE_THRESHOLD = 0.6
LLM_CONFIDENCE = 0.75

Intent = Literal[
    "find_slot", "book", "cancel", "reschedule", "schedule_lookup", "staff_unavailable",
    "emergency_intake", "utilization_summary", "compliance_report", "confirm", "decline",
    "help", "unknown",
]  # fmt: skip
Metric = Literal[
    "staff_utilization", "room_utilization", "attendance", "no_show_rate",
    "unmet_requirements", "court_compliance", "authorization_status",
]  # fmt: skip


class SpanFrame(BaseModel):
    """What the model returns: words copied from the redacted message, never resolved values."""

    intent: Intent
    patient: str | None = Field(None, description="exact words naming the patient")
    staff: str | None = Field(None, description="exact words naming the clinician")
    session_type: str | None = Field(None, description="a session type id")
    needs: list[str] = Field(default_factory=list)
    when: str | None = Field(None, description="exact words about time")
    duration_minutes: int | None = None
    room: str | None = Field(None, description="exact words naming a room")
    option: int | None = None
    metric: Metric | None = None


def understand(
    text: str,
    *,
    roster: Roster,
    now: datetime,
    actor: str | None = None,
    gateway: Gateway | None = None,
    mapping: PlaceholderMap | None = None,
    threshold: float = CONFIDENCE_THRESHOLD,
) -> dict[str, Any]:
    """The rules' frame, or (when they are unsure and a gateway is configured) the model's."""
    frame = parse(text, roster=roster, now=now, actor=actor)
    if gateway is None or frame["confidence"] >= threshold or frame.get("action"):
        return frame  # a change to the record (attendance included) is never guessed at
    redaction = redactor_for(roster).redact(text, mapping)
    prompt = "parse_fallback"
    content = redaction.text
    answer = gateway.structured(prompt, content, SpanFrame, purpose="parse")
    if answer is None:
        return frame  # timeout, outage, blocked or unparsable: the rules' answer stands
    return resolve(answer, redaction, frame, roster=roster, now=now, actor=actor)


def resolve(
    answer: SpanFrame,
    redaction: Redaction,
    rules: dict[str, Any],
    *,
    roster: Roster,
    now: datetime,
    actor: str | None,
) -> dict[str, Any]:
    """Local resolution of the model's spans; a span that is not in the message is ignored."""
    red = str(redaction.text)
    mapping = redaction.mapping

    def span(value: str | None) -> str | None:
        return value if value and value.strip() and value in red else None

    parser = parser_for(roster)
    local_now = now.astimezone(parser.tz) if now.tzinfo else now.replace(tzinfo=parser.tz)
    frame = dict(rules)
    frame["intent"] = answer.intent
    frame["patient"] = rules["patient"] or _person(span(answer.patient), mapping, roster, "patient")
    frame["staff"] = rules["staff"] or _person(span(answer.staff), mapping, roster, "staff")
    if rules["session_type"] is None and answer.session_type in set(roster.session_types):
        frame["session_type"] = answer.session_type
    frame["needs"] = rules["needs"] or [n for n in answer.needs if n.replace("_", "").isalpha()]
    when = span(answer.when)
    if rules["window"] is None and when:
        facts = times.extract(mapping.restore(when).lower(), local_now)
        window = times.resolve(facts, local_now, unavailable=answer.intent == "staff_unavailable")
        if window:
            frame["window"] = {
                "start": window[0].isoformat(timespec="seconds"),
                "end": window[1].isoformat(timespec="seconds"),
            }
    if rules["duration_minutes"] is None and answer.duration_minutes:
        frame["duration_minutes"] = answer.duration_minutes
    if rules["room"] is None and span(answer.room):
        frame["room"] = _room(mapping.restore(answer.room or ""), roster)
    frame["option"] = rules["option"] if rules["option"] is not None else answer.option
    frame["metric"] = rules["metric"] or answer.metric
    frame["confidence"] = max(rules["confidence"], LLM_CONFIDENCE)
    frame["parser"] = "llm"
    return frame


def _person(
    words: str | None, mapping: PlaceholderMap, roster: Roster, kind: str
) -> dict[str, Any] | None:
    if not words:
        return None
    original = mapping.restore(words)
    ids = mapping.patient_ids.get(words.strip()) if kind == "patient" else None
    if ids is None:
        hits = list(index_for(roster).find(original))
        ids = sorted({p.id for h in hits for p in h.people if p.kind == kind})
    if len(ids) == 1:
        return {"text": original, "id": ids[0]}
    if ids:
        return {"text": original, "id": None, "candidates": ids}
    return {"text": original, "id": None}


def _room(words: str, roster: Roster) -> dict[str, Any] | None:
    low = words.lower().strip()
    for room in roster.rooms:
        if low in (room.name.lower(), room.id.lower()):
            return {"text": words, "id": room.id}
    return {"text": words, "id": None} if words else None
