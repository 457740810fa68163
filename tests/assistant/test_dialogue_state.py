"""The conversation state survives its trip through the database's JSON column."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from assistant.dialogue.state import (
    ConversationState,
    LastChange,
    Option,
    Pending,
    PendingAttendance,
    PendingCancel,
    SlotSearch,
)

NY = ZoneInfo("America/New_York")


def test_every_field_round_trips_through_json() -> None:
    start, end = datetime(2026, 12, 1, 13, 0, tzinfo=NY), datetime(2026, 12, 1, 17, 0, tzinfo=NY)
    option = Option(start, end, ["c007"], "ind-2", 97.5, {"continuity": 0.0})
    state = ConversationState(
        pending=Pending({"intent": "find_slot", "needs": ["trauma"]}, ["p0008", "p0014"]),
        request=SlotSearch("p0008", "individual", start, end, "c007", ["trauma"], 45),
        options=[option],
        offered=[option],
        move_of="a00224",
        confirm=PendingCancel("a00237", "in hospital"),
        awaiting_override=2,
        last_change=LastChange("move", "a00224", {"start": start.isoformat()}),
        attendance=PendingAttendance(
            "delay", "running_late", ["shorten", "push"], {"appointment": "a00267", "minutes": 10}
        ),
        unsure={"intent": "staff_unavailable", "staff": None, "confidence": 0.5},
    )
    stored = json.loads(json.dumps(state.as_dict()))
    assert ConversationState.from_dict(stored) == state
    assert ConversationState.from_dict({}) == ConversationState()
    # The Slack door reads the options on offer straight from the stored state.
    assert stored["options"][0]["staff"] == ["c007"]
    assert datetime.fromisoformat(stored["options"][0]["start"]) == start
