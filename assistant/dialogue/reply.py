"""What the dialogue answers: the text, the frame it understood, options, buttons, and who to tell."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    conversation_id: str
    reply: str
    frame: dict[str, Any] | None = None
    options: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)
    """What a door may offer as buttons: {"label", "message"}; sending `message` does it."""
    notify: list[dict[str, Any]] = field(default_factory=list)
    """Who must be told what (a door with a channel to them, like Slack, delivers it)."""
    appointments: list[str] = field(default_factory=list)
    """The ids of the appointments the reply describes (its text names none), for the doors'
    record of what a message disclosed."""
    refused: bool = False
    """The reply refuses the question (a role or caseload rule): whoever it names, it is the
    asker's own words said back, not a read of anyone's information (no access-log row)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "reply": self.reply,
            "frame": self.frame,
            "options": self.options,
            "actions": self.actions,
            "notify": self.notify,
            "appointments": self.appointments,
            "refused": self.refused,
        }
