"""Optional prose for summaries, written from aggregates only. The aggregates are serialised and
redacted like any message (a name or date that slipped into them becomes a placeholder), and
the reply is restored locally."""

from __future__ import annotations

import json
from typing import Any

from assistant.llm.gateway import Gateway
from assistant.phi import PlaceholderMap, redactor_for
from assistant.roster import Roster


def summarize(aggregates: dict[str, Any], *, roster: Roster, gateway: Gateway | None) -> str | None:
    """A few sentences about the figures, or None (no model configured, or it failed)."""
    if gateway is None:
        return None
    mapping = PlaceholderMap()
    payload = json.dumps(aggregates, sort_keys=True, ensure_ascii=False, default=str)
    redaction = redactor_for(roster).redact(payload, mapping)
    text = gateway.prose("summary", redaction.text, purpose="summary")
    return mapping.restore(text) if text else None
