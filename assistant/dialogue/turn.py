"""One message and its answer: what every handler reads (who asks, the state, the clock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from assistant.access import may
from assistant.dialogue import wording
from assistant.dialogue.facts import Facts
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import ConversationState, Frame
from clinic.booking import AppointmentView
from clinic.db import Database
from clinic.timeutil import day_bounds, parse_datetime
from clinic.tokens import Caller

DEFAULT_HORIZON = timedelta(days=7)
DOORS = {"slack": "slack", "web": "web chat", "conv": "chat"}
"""Conversation id prefixes (integrations.slack.answer, integrations.web.chat, the API's)."""


@dataclass
class Turn:
    db: Database
    facts: Facts
    caller: Caller
    cid: str
    state: ConversationState
    text: str
    now: datetime
    frame: Frame | None = None
    """What the message was understood as (None for commands like "undo")."""
    tz: ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        self.tz = self.db.facility_tz()

    def reply(self, text: str, **extra: Any) -> Reply:
        return Reply(self.cid, text, self.frame, **extra)

    @property
    def door(self) -> str:
        """Which door the conversation came through, from its id's prefix (for the audit log)."""
        return DOORS.get(self.cid.split("-", 1)[0], "chat")

    def names(self) -> wording.Names:
        return self.facts.names()

    def describe(self, appointment: AppointmentView) -> str:
        """An appointment in the caller's words (its kind only if they may see clinical detail)."""
        clinical = may(self.caller, "see_clinical_detail")
        return wording.appointment(appointment, self.names(), self.tz, clinical=clinical)

    # -- periods -------------------------------------------------------------------------------

    def window(
        self, frame: Frame, default: timedelta = DEFAULT_HORIZON
    ) -> tuple[datetime, datetime]:
        """When a session may start: the frame's window (an exact time is a minute), from now."""
        window = frame.get("window")
        if window:
            start = parse_datetime(window["start"], self.tz)
            end = parse_datetime(window["end"], self.tz)
            if end <= start:  # 'at 2pm': an exact time
                end = start + timedelta(minutes=1)
        else:
            start, end = self.now, self.now + default
        return max(start, self.now), end

    def asked_period(
        self, frame: Frame, default: tuple[datetime, datetime]
    ) -> tuple[datetime, datetime]:
        """The period the message names, as given (no clamping to now), else `default`."""
        window = frame.get("window")
        if not window:
            return default
        return parse_datetime(window["start"], self.tz), parse_datetime(window["end"], self.tz)

    def today(self) -> tuple[datetime, datetime]:
        return day_bounds(self.now.astimezone(self.tz).date(), self.tz)
