"""Groups and rooms from the conversation: "add Jamie to the Tuesday relapse-prevention group",
"remove Jamie from the relapse group", "Group room B is closed tomorrow".

Each asks first (what exactly will change) and writes only on "yes": `ask_*` remembers the change
in the conversation state, `confirm_change` makes it through the use case (groups.enrol,
groups.unenrol, rooms.close_room). A room's closure then becomes a proposal, presented like a
sick call's: applied by an approver.
"""

from __future__ import annotations

from assistant import callers
from assistant.access import may
from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame, PendingChange
from assistant.dialogue.turn import Turn
from assistant.usecases import groups, rooms
from clinic.errors import InvalidInput, RotaError
from clinic.timeutil import parse_datetime

ENROLL, UNENROLL, ROOM_CLOSED = "enroll", "unenroll", "room_closed"


def ask_membership(turn: Turn, frame: Frame) -> Reply:
    """enrol / unenrol: which patient, which group; then "Add X to Y? yes/no"."""
    action = frame["action"]
    patient = (frame.get("patient") or {}).get("id")
    if not patient:
        return turn.reply(wording.which_patient_for(action))
    words = (frame.get("group") or {}).get("text") or ""
    found = groups.find_group(turn.db, turn.caller, words)
    if len(found) != 1:
        return turn.reply(wording.which_group(words, found))
    group = found[0]
    join = action == ENROLL
    if join == (patient in group["members"]):
        already = "already in" if join else "not in"
        return turn.reply(f"{turn.names()(patient)} is {already} {group['name']}.")
    turn.state.change = PendingChange(action, {"group": group["id"], "patient": patient})
    text, actions = wording.confirm_enrol(turn.names()(patient), group, join=join)
    return turn.reply(text, actions=actions)


def ask_room_closed(turn: Turn, frame: Frame) -> Reply:
    """A room closed for the period named (default: the rest of today); "Close X on ...?"."""
    room = (frame.get("room") or {}).get("id")
    if not room:
        raise InvalidInput("which room? Say its name as the schedule shows it")
    start, end = turn.asked_period(frame, (turn.now, turn.today()[1]))
    start = max(start, turn.now)
    if end <= start:
        raise InvalidInput("that time has already passed; say when the room is closed")
    turn.state.change = PendingChange(
        ROOM_CLOSED, {"room": room, "start": start.isoformat(), "end": end.isoformat()}
    )
    text, actions = wording.confirm_closure(turn.names()(room), start, end, turn.tz)
    return turn.reply(text, actions=actions)


def confirm_change(turn: Turn) -> Reply:
    """ "yes": make the change waiting in the conversation (once; a refusal forgets it)."""
    change = turn.state.change
    assert change is not None
    turn.state.change = None  # asked once: a refusal is final, a retry starts over
    data = change.data
    if change.kind in (ENROLL, UNENROLL):
        join = change.kind == ENROLL
        if join:
            done = groups.enrol(
                turn.db, turn.caller, groups.Enrol(data["group"], data["patient"], turn.now)
            )
            changed, left_out = done["joined"], done["not_joined"]
        else:
            done = groups.unenrol(
                turn.db, turn.caller, groups.Unenrol(data["group"], data["patient"], turn.now)
            )
            changed, left_out = done["left"], done["not_left"]
        text = wording.enrolled(
            turn.names()(data["patient"]), done["group"], len(changed), len(left_out), join=join
        )
        return turn.reply(text, appointments=changed)
    if change.kind == ROOM_CLOSED:
        return _closed(turn, data["room"], data["start"], data["end"])
    raise RotaError(f"unknown change {change.kind!r}")


def decline_change(turn: Turn) -> Reply:
    turn.state.change = None
    return turn.reply(wording.LEFT_AS_IT_WAS)


def _closed(turn: Turn, room: str, start: str, end: str) -> Reply:
    proposal = rooms.close_room(
        turn.db,
        turn.caller,
        rooms.CloseRoom(
            room,
            max(parse_datetime(start, turn.tz), turn.now),
            parse_datetime(end, turn.tz),
            turn.now,
            reason=wording.audit_reason("close_room", turn.cid, turn.caller.name),
        ),
    )
    names = turn.names()
    text = wording.room_closed(proposal, names, turn.tz)
    if not proposal["affected"]:
        return turn.reply(text)
    if may(turn.caller, "approve_changes"):
        reply, actions = wording.apply_or_adjust(text, proposal["id"])
        return turn.reply(reply, actions=actions)
    approvers = [c.staff_id for c in callers.approvers(turn.db)]
    return turn.reply(
        wording.sent_for_approval(text, [names(a) for a in approvers], proposal["id"]),
        notify=[
            {"staff": a, "kind": "approval_needed", "proposal": proposal["id"], "text": text}
            for a in approvers
        ],
    )
