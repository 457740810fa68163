"""Recognisers for changes to groups and rooms: "add Jamie to the Tuesday relapse-prevention
group", "remove Jamie from the relapse group", "Group room B is closed tomorrow".

The request-frame contract has no intent for these, so the frame keeps the intent the contract
would give (`unknown`) and says what was asked in the added field `action` (`enroll`,
`unenroll`, `room_closed`); `group` holds the words naming the group (the dialogue finds it).
The parser calls `recognise` once its frame is built (the patient, room and window are its own).
"""

from __future__ import annotations

import re
from typing import Any

from assistant.parse import lexicon as lx

ACTIONS = ("enroll", "unenroll", "room_closed")

_DAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri)(?:day)?'?s?\s+)"
# A group: words ending in "group", or a known topic without it ("add Jamie to DBT").
_GROUP = (
    r"(?:the\s+)?(?P<group>[\w'’ -]+?\s+group\b"
    rf"|{_DAY}?(?:{lx.GROUP_TOPICS})(?:\s+group)?(?![\w'-]))"
)
_ENROL = re.compile(
    r"\b(?:add|enrol+|put|sign|place|join)\s+(?P<who>.+?)\s+(?:up\s+)?"
    rf"(?:to|in|into|for|on)\s+{_GROUP}"
    rf"|^(?P<who2>[\w'’ .-]+?)\s+(?:should|will|is\s+going\s+to)\s+join\s+{_GROUP.replace('group>', 'group2>')}",
    re.I,
)
_UNENROL = re.compile(
    r"\b(?:remove|take|drop|unenrol+|discharge|pull)\s+(?P<who>.+?)\s+"
    rf"(?:out\s+of|from|off(?:\s+of)?)\s+{_GROUP}",
    re.I,
)
# "close medical room 1 friday": the imperative, with a room named.
_CLOSE = re.compile(r"^[\W_]*(?:(?:pls|please|ok)\s+)?(?:close|shut|block(?:\s+off)?)\b", re.I)
_CLOSED = re.compile(
    r"\b(?:closed|closing|shut|out\s+of\s+(?:use|service|action|order)|unavailable|unusable"
    r"|off[-\s]limits|not\s+available|being\s+(?:painted|cleaned|repaired|renovated))\b",
    re.I,
)
# The intents a message about a group or a room gets by mistake ("group" is a session type, a
# room "out of service" sounds like someone out); a confirmation or a report keeps its own.
_TAKEN_OVER = ("unknown", "find_slot", "book", "schedule_lookup", "cancel", "staff_unavailable")
# A frame that has recognised one of these needs no model to understand it.
CONFIDENT = 0.9


def recognise(text: str, frame: dict[str, Any]) -> dict[str, Any]:
    """The frame with `action` (and `group`) set when the message asks for one of these
    changes; `action` is None otherwise. Only the intents the contract has no word for are
    taken over (a booking, a sick call or a confirmation stays what it is)."""
    frame.setdefault("action", None)
    frame.setdefault("group", None)
    if frame["action"] or frame["intent"] not in _TAKEN_OVER:
        return frame  # another recogniser's, or a request the contract has words for
    if lx.is_question(text):
        return frame  # "is Jamie in DBT?", "is group room 1 closed tomorrow?"
    for action, pattern in (("unenroll", _UNENROL), ("enroll", _ENROL)):
        m = pattern.search(text)
        if m:
            words = m.groupdict().get("group") or m.groupdict().get("group2") or ""
            frame["action"] = action
            frame["group"] = {"text": " ".join(words.split()), "id": None}
            break
    else:
        closed = _CLOSED.search(text) or _CLOSE.search(text)
        if frame.get("room") and closed and not _names_staff(frame):
            frame["action"] = "room_closed"
    if frame["action"] in ("enroll", "unenroll") and _one_meeting(frame):
        # "add Tyler to tuesday's IOP group", "take DeShawn off tonight's group": one meeting
        # of a group, booked or cancelled as any session is (the contract's own intents)
        frame["intent"] = "book" if frame["action"] == "enroll" else "cancel"
        frame["session_type"], frame["action"], frame["group"] = "group", None, None
        return frame
    if frame["action"]:
        frame["intent"] = "unknown"
        frame["session_type"] = None  # "group" named the group, not a session to book
        frame["confidence"] = max(frame["confidence"], CONFIDENT)
    return frame


_ONE_MEETING = re.compile(
    r"\b(?:today|tonight|tonite|tomorrow|tmrw|(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|satur|sun)(?:day)?)'s\b"
    r"|\d\s*(?:[ap]\.?m\b|:\d\d)"
)
_TOPIC = re.compile(rf"\b(?:{lx.GROUP_TOPICS})\b", re.I)


def _one_meeting(frame: dict[str, Any]) -> bool:
    """The group words name one meeting rather than the group: a day's ("tonight's group") or
    a clock time, or a day and no topic that names a standing group ("the thurs evening group")."""
    words = (frame.get("group") or {}).get("text") or ""
    if _ONE_MEETING.search(words.lower()):
        return True
    return bool(frame.get("window")) and not _TOPIC.search(words)


def _names_staff(frame: dict[str, Any]) -> bool:
    """Someone is named as out ("Dana and Group room B are out"): a sick call, not a room."""
    staff = frame.get("staff")
    return bool(staff and staff.get("text"))
