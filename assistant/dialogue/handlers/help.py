"""help: what one can ask."""

from __future__ import annotations

from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame
from assistant.dialogue.turn import Turn


def help_(turn: Turn, frame: Frame) -> Reply:
    return turn.reply(wording.HELP)
