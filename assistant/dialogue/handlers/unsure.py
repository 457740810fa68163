"""Never act on an unsure frame (issue 16): a message that would book, move, cancel or report an
absence, read with a confidence below ACT_SURE, is said back as a yes/no question first
("Record Dana out Mon 30 Nov 08:30–17:00? Reply yes or no."); "yes" goes on with what was
understood, "no" lets it go, anything else starts over.

Requests that only offer (find_slot, book, reschedule) or ask before they change anything
(cancel) already end in a question; the intents held here are the ones whose handler acts in the
same turn: "yes"/"option 2" (book, move or cancel what is waiting), an absence (a proposal of
cover, sent to the approvers) and an emergency walk-in (admitted, and bumps proposed).
"""

from __future__ import annotations

from typing import Any

from assistant.dialogue import wording
from assistant.dialogue.handlers.confirm import option_named
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import ConversationState, Frame
from assistant.dialogue.turn import Turn

ACT_SURE = 0.8
"""The confidence at or above which a frame is acted on without being said back."""
ACTS = frozenset({"confirm", "staff_unavailable", "emergency_intake"})
"""The intents whose handler changes something in the same turn."""


def holds(frame: Frame, state: ConversationState) -> bool:
    """Whether the frame must be said back before anything is done with it."""
    if frame.get("confidence", 0.0) >= ACT_SURE or frame.get("action") or frame.get("repeat"):
        return False  # records, attendance and series ask for their own "yes"
    if frame["intent"] == "confirm":
        return _waiting(state)  # "yes" to nothing changes nothing: the handler says so
    return frame["intent"] in ACTS


def _waiting(state: ConversationState) -> bool:
    return bool(state.options or state.confirm or state.record or state.attendance or state.change)


def answered(turn: Turn, frame: Frame) -> Frame | Reply:
    """The held frame when this message says yes to it; a reply when it says no; else the
    message's own frame (a held frame is forgotten once anything else is said)."""
    held = turn.state.unsure
    turn.state.unsure = None
    if held is None:
        return frame
    if frame["intent"] == "confirm" and frame.get("confidence", 0.0) >= ACT_SURE:
        return {**held, "confidence": 1.0}
    if frame["intent"] == "decline":
        return turn.reply(wording.DROPPED)
    return frame


def ask(turn: Turn, frame: Frame) -> Reply:
    """Hold the frame and say it back."""
    turn.state.unsure = frame
    text = wording.say_back(_what(turn, frame))
    return turn.reply(text, actions=wording.YES_NO)


def _what(turn: Turn, frame: Frame) -> str:
    names = turn.names()
    intent = frame["intent"]
    if intent == "staff_unavailable":
        staff = (frame.get("staff") or {}).get("id")
        who = names(staff) if staff and staff != turn.caller.staff_id else "you"
        start, end = turn.asked_period(frame, (turn.now, turn.today()[1]))
        return wording.out_period(who, max(start, turn.now), end, turn.tz)
    if intent == "emergency_intake":
        mention: dict[str, Any] = frame.get("patient") or {}
        who = names(mention["id"]) if mention.get("id") else mention.get("text") or "a walk-in"
        return f"find {who} the earliest emergency intake"
    state = turn.state
    if state.options:
        n = option_named(turn, frame)
        if n is not None and 1 <= n <= len(state.options):
            o = state.options[n - 1]
            verb = "move it to" if state.move_of else "book"
            described = wording.option(o.start, o.end, o.staff, o.room, names, turn.tz)
            return f"{verb} option {n}, {described}"
    return "go ahead with what is waiting"
