"""The dialogue policy: pick the handler for a message from its words, its intent and what the
conversation is waiting for. Handlers do the work; this module only chooses."""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant import gate
from assistant.dialogue import wording
from assistant.dialogue.handlers import (
    attendance,
    cancel,
    clarify,
    compliance_report,
    confirm,
    emergency_access,
    emergency_intake,
    find_slot,
    groups_rooms,
    help,
    proposals,
    records,
    reschedule,
    schedule_lookup,
    series,
    staff_unavailable,
    undo,
    unsure,
    utilization_summary,
    waitlist,
)
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame, IntentChoice
from assistant.dialogue.turn import Turn
from assistant.llm.fallback import understand
from assistant.parse import waitlist as waitlist_words
from assistant.parse.attendance import ACTIONS as ATTENDANCE_ACTIONS
from assistant.parse.records import ACTIONS as RECORD_ACTIONS
from clinic.errors import PermissionDenied, RotaError, RuleViolation

Handler = Callable[[Turn, Frame], Reply]

# Commands recognised by their words alone, before any understanding.
_UNDO = re.compile(r"^\s*(undo|undo that|revert|take that back)\W*$", re.I)
_APPLY = re.compile(
    r"^\s*(apply|approve|approved|apply it|apply (the )?proposal)\s*(?P<id>P-[0-9a-f]+)?\W*$", re.I
)
_REJECT = re.compile(r"^\s*(reject|set aside|decline proposal)\s*(?P<id>P-[0-9a-f]+)?\W*$", re.I)
_ADJUST = re.compile(r"^\s*adjust( proposal)?\s*(?P<id>P-[0-9a-f]+)?\W*$", re.I)
_WITHDRAW = re.compile(r"^\s*withdraw( the absence| absence)?\s*(?P<id>P-[0-9a-f]+)?\W*$", re.I)
_COVER = re.compile(
    r"^\s*cover\s+(session\s+)?(?P<n>\d+)\s+with\s+(?P<who>.+?)\s*(?P<id>P-[0-9a-f]+)?\W*$",
    re.I,
)
_PENDING = re.compile(r"^\s*(pending|proposals|what needs my approval|show proposals)\W*$", re.I)
_OVERRIDE = re.compile(r"^\s*override\s*[:,-]?\s*(?P<reason>.+)$", re.I)
_DROP = re.compile(r"^\s*(never ?mind|forget it|cancel that|stop|no thanks|nothing)\W*$", re.I)
_YES_NO = ("confirm", "decline")
_ACCEPT_OFFER = re.compile(r"^\s*accept\s+(?:waitlist\s+)?offer\s+#?(?P<id>\d+)\W*$", re.I)
# "open Jamie Rivera — reason: crisis call" (break the glass: assistant.break_glass). Two
# simple patterns, not one: a lazy name before an optional separator backtracks for ever on a
# long run of spaces.
_OPEN = re.compile(r"open\s+(?=\S)", re.I)
_BECAUSE = re.compile(r"\b(?:reason|because)\b", re.I)
_SEPARATORS = " \t,;:—–-"
_MORE = re.compile(r"^\s*(more|more options|other options|show more)\W*$", re.I)

# The intents that can wait for a patient, and so resume once one is named.
_RESUMABLE: dict[str, Handler] = {
    "find_slot": find_slot.offer,
    "book": find_slot.offer,
    "cancel": cancel.cancel,
    "reschedule": reschedule.reschedule,
    "emergency_intake": emergency_intake.emergency,
}
# Changes to the record the contract has no intent for, by the frame's `action`.
_ACTIONS: dict[str, Handler] = {
    groups_rooms.ENROLL: groups_rooms.ask_membership,
    groups_rooms.UNENROLL: groups_rooms.ask_membership,
    groups_rooms.ROOM_CLOSED: groups_rooms.ask_room_closed,
    waitlist_words.ADD: waitlist.add,
    waitlist_words.LIST: waitlist.who,
}


def _by_action(turn: Turn, frame: Frame) -> Reply:
    """A request the frame's `action` names: a group or room change, attendance, or a change to
    a patient's record (assistant/parse: groups_rooms, attendance, records)."""
    action = frame["action"]
    if action in _ACTIONS:
        turn.state.drop_offers()
        return _ACTIONS[action](turn, frame)
    if action in ATTENDANCE_ACTIONS:
        turn.state.pending = None
        return attendance.handle(turn, frame)
    if action in RECORD_ACTIONS:
        turn.state.drop_offers()
        return records.start(turn, frame)
    return turn.reply(wording.NOT_UNDERSTOOD)


_INTENTS: dict[str, Handler] = {
    **_RESUMABLE,
    "confirm": lambda turn, frame: confirm.confirm(turn, confirm.option_named(turn, frame)),
    "decline": confirm.decline,
    "schedule_lookup": schedule_lookup.lookup,
    "staff_unavailable": staff_unavailable.staff_unavailable,
    "utilization_summary": utilization_summary.utilization,
    "compliance_report": compliance_report.compliance,
    "help": help.help_,
}


def route(turn: Turn) -> Reply:
    """The answer to one message; a refusal or a domain error becomes a sentence."""
    try:
        return _dispatch(turn)
    except RuleViolation as exc:
        return confirm.denied(turn, exc)
    except PermissionDenied as exc:
        return turn.reply(wording.cannot(exc, turn.names()), refused=True)
    except RotaError as exc:
        return turn.reply(wording.error(exc, turn.names()))


def _intent_chosen(turn: Turn, frame: Frame) -> Frame | Reply:
    """A message that reads two ways is asked about, never acted on; the answer ("1", "option
    2", "no") picks the reading and the original request goes on."""
    asked = turn.state.intent_choice
    turn.state.intent_choice = None
    if asked is not None:
        if frame["intent"] == "confirm" and frame.get("option") in range(1, len(asked.intents) + 1):
            picked = asked.intents[frame["option"] - 1]
            return {**asked.frame, "intent": picked, "alternatives": None, "confidence": 1.0}
        if frame["intent"] == "decline":
            return turn.reply(wording.DROPPED)
    either = frame.get("alternatives")
    if either and frame.get("parser") != "llm":
        turn.state.intent_choice = IntentChoice(frame, list(either))
        text, actions = wording.which_intent(either)
        return turn.reply(text, actions=actions)
    return frame


def _open_request(text: str) -> tuple[str, str] | None:
    """("Jamie Rivera", "crisis call") from "open Jamie Rivera — reason: crisis call"; None
    for anything else (a request without a reason goes to the parser as before)."""
    start = _OPEN.match(text.lstrip())
    if start is None:
        return None
    rest = text.lstrip()[start.end() :]
    because = _BECAUSE.search(rest)
    if because is None:
        return None
    who = rest[: because.start()].strip(_SEPARATORS)
    return (who, rest[because.end() :].strip(_SEPARATORS)) if who else None


def _dispatch(turn: Turn) -> Reply:
    text = turn.text
    if _UNDO.match(text):
        return undo.undo(turn)
    if _PENDING.match(text):
        return proposals.waiting(turn)
    if m := _APPLY.match(text):
        return proposals.apply(turn, m.group("id"))
    if m := _REJECT.match(text):
        return proposals.reject(turn, m.group("id"))
    if m := _ADJUST.match(text):
        return proposals.adjust(turn, m.group("id"))
    if m := _WITHDRAW.match(text):
        return proposals.withdraw(turn, m.group("id"))
    if m := _COVER.match(text):
        return proposals.cover(turn, m.group("id"), int(m.group("n")), m.group("who"))
    if m := _OVERRIDE.match(text):
        return confirm.override(turn, m.group("reason").strip())
    if _DROP.match(text):
        return confirm.drop(turn)
    if opened := _open_request(text):
        return emergency_access.open_patient(turn, *opened)
    if _MORE.match(text):
        return find_slot.more(turn)
    if m := _ACCEPT_OFFER.match(text):
        return waitlist.accept(turn, int(m.group("id")))
    frame = understand(
        text,
        roster=turn.facts.roster(),
        now=turn.now,
        actor=turn.caller.staff_id,
        gateway=turn.facts.gateway(),
    )
    turn.frame = frame
    said_yes = unsure.answered(turn, frame)  # "yes" to a request said back; "no" drops it
    if isinstance(said_yes, Reply):
        return said_yes
    chosen = _intent_chosen(turn, said_yes)
    if isinstance(chosen, Reply):
        return chosen
    frame = turn.frame = chosen
    intent = frame["intent"]
    record = turn.state.record  # a living-record change waiting for a detail it asked for:
    if record and record.missing and not frame.get("action") and intent not in _YES_NO:
        return records.answer(turn)  # the message is the answer ("never mind" drops it above)
    refused = gate.refusal(turn.caller, frame)
    if refused:  # before any name is resolved: the same sentence whoever was named
        turn.state.pending = None
        return turn.reply(refused)
    if unsure.holds(frame, turn.state):  # never act on words read with too little confidence
        return unsure.ask(turn, frame)
    if frame.get("action"):  # outside the contract's intents: told by the frame's `action`
        return _by_action(turn, frame)
    if frame.get("repeat") or frame.get("scope"):  # a weekly series (assistant/parse/series)
        return series.handle(turn, frame)
    pending = turn.state.pending
    if pending and clarify.answers(pending, frame):
        resumed = clarify.completed(turn, pending, frame)
        if isinstance(resumed, Reply):
            return resumed
        turn.state.pending = None
        turn.frame = resumed
        if resumed.get("action"):
            return _by_action(turn, resumed)
        return _RESUMABLE[resumed["intent"]](turn, resumed)
    turn.state.pending = None  # anything else starts over; its own question, if any, replaces it
    if intent not in _YES_NO:
        turn.state.record = None  # a record change waiting for "yes" is not what this is about
    if turn.state.change and intent in ("confirm", "decline"):
        if turn.state.change.kind in series.KINDS:
            return series.confirm(turn) if intent == "confirm" else series.decline(turn)
        if intent == "confirm":
            return groups_rooms.confirm_change(turn)
        return groups_rooms.decline_change(turn)
    turn.state.change = None
    handler = _INTENTS.get(intent)
    if handler is None:
        return turn.reply(wording.NOT_UNDERSTOOD)
    return handler(turn, frame)
