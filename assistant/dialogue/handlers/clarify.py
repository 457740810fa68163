"""Asking which patient a request is for, and recognising the answer."""

from __future__ import annotations

import re

from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame, Pending
from assistant.dialogue.turn import Turn


def need_patient(turn: Turn, frame: Frame) -> str | Reply:
    """The patient's id, or a question asking which patient (remembered as pending)."""
    mention = frame.get("patient")
    if mention and mention.get("id"):
        return mention["id"]
    if mention and mention.get("candidates"):
        candidates = mention["candidates"][:5]
        turn.state.pending = Pending(frame, candidates)
        text, actions = wording.which_patient(candidates, turn.names())
        return turn.reply(text, actions=actions)
    turn.state.pending = Pending(frame)
    if mention:
        return turn.reply(wording.unknown_patient(mention.get("text")))
    return turn.reply(wording.WHICH_PATIENT)


# What an answer may parse as: a bare name ("Laura Fox") or a pick ("the first one", "yes,
# Laura Fox"). A request of its own ("find a slot for Laura Fox tomorrow") starts over instead
# of inheriting the window and needs of the request that asked.
_ANSWER_INTENTS = frozenset({"unknown", "confirm"})


def answers(pending: Pending, frame: Frame) -> bool:
    """Whether `frame` answers the pending question (a patient, or a pick from the list; for
    a new patient, their name)."""
    if frame.get("intent") not in _ANSWER_INTENTS:
        return False
    if _awaits_new_name(pending) or _awaits_same_or_new(pending):
        return True
    patient = frame.get("patient")
    return bool(patient and (patient.get("id") or patient.get("candidates"))) or (
        frame.get("option") is not None and bool(pending.candidates)
    )


def need_new_name(turn: Turn, frame: Frame) -> Reply:
    """Ask for a new patient's name (remembered as pending)."""
    turn.state.pending = Pending(frame)
    return turn.reply(wording.NEW_PATIENT_NAME)


def _awaits_same_or_new(pending: Pending) -> bool:
    """A walk-in who looks like a patient in care: 'same' or 'new' (assistant.dialogue.handlers
    .emergency_intake asked)."""
    return bool((pending.frame.get("patient") or {}).get("existing"))


_SAME = re.compile(r"^\W*(?:same|the\s+same|same\s+(?:one|person|patient)|yes,?\s+same)\W*$", re.I)
_NEW = re.compile(
    r"^\W*(?:new|a\s+new\s+one|new\s+(?:one|person|patient)|another|someone\s+else)\W*$", re.I
)


def _same_or_new(turn: Turn, original: Frame) -> Frame | Reply:
    """'same': the request goes on with the patient in care; 'new': admit another person."""
    mention = dict(original["patient"])
    existing = mention.pop("existing")
    if _SAME.match(turn.text):
        original["patient"] = {"text": existing["name"], "id": existing["id"]}
    elif _NEW.match(turn.text):
        original["patient"] = {**mention, "another": True}
    else:
        turn.state.pending = Pending(original, [existing["id"]])
        today = turn.now.astimezone(turn.tz).date()
        return turn.reply(
            wording.same_walk_in(existing, today, turn.tz), actions=wording.SAME_OR_NEW
        )
    return original


def _awaits_new_name(pending: Pending) -> bool:
    mention = pending.frame.get("patient") or {}
    return bool(mention.get("new")) and not mention.get("text")


_NAME_IS = re.compile(
    r"^\s*(?:(?:her|his|their|the)\s+name\s+is|name\s+is|it'?s|it\s+is|she'?s|he'?s)\s+", re.I
)


def completed(turn: Turn, pending: Pending, frame: Frame) -> Frame | Reply:
    """The pending request with the patient the answer names, or a reply if the pick is off."""
    original = pending.frame
    patient = frame.get("patient")
    if _awaits_same_or_new(pending):
        return _same_or_new(turn, original)
    if _awaits_new_name(pending):
        name = _NAME_IS.sub("", turn.text).strip(" .,!")
        if not name:
            return turn.reply(wording.NEW_PATIENT_NAME)
        original["patient"] = {"text": name, "id": None, "new": True}
        return original
    if (
        frame.get("option") is not None
        and pending.candidates
        and not (patient and patient.get("id"))
    ):
        index = frame["option"] - 1
        if not 0 <= index < len(pending.candidates):
            return turn.reply(wording.pick_one_to(len(pending.candidates)))
        chosen = pending.candidates[index]
        original["patient"] = {
            "text": original["patient"]["text"] if original.get("patient") else chosen,
            "id": chosen,
        }
    else:
        original["patient"] = patient
    return original
