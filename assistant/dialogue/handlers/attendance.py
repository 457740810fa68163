"""Attendance in conversation: "Jamie checked in", "mark my 2pm a no-show", "all my sessions
today were attended except Jamie's", "what hasn't been marked today?", "Jamie is running 15
minutes late". Each is one use case (assistant.usecases.attendance, .knock_on) plus wording.

A plain mark is recorded at once (it is what the person saw happen); a late cancellation, a
whole day and a way to absorb a delay wait for "yes" or a number (state.PendingAttendance).
"""

from __future__ import annotations

from datetime import date, datetime, time

from assistant import callers
from assistant.access import may
from assistant.dialogue import wording
from assistant.dialogue.handlers.clarify import need_patient
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame, PendingAttendance
from assistant.dialogue.turn import Turn
from assistant.usecases import appointments, attendance, knock_on
from clinic.booking import AppointmentView
from clinic.errors import InvalidInput

_DELAYS = ("running_late", "running_over")


def handle(turn: Turn, frame: Frame) -> Reply:
    turn.state.attendance = None
    action = frame["action"]
    day = date.fromisoformat(frame["day"])
    if action == "unmarked":
        return _unmarked(turn, frame, day)
    if frame.get("bulk"):
        return _plan_day(turn, frame, day)
    if action in _DELAYS and not frame.get("minutes"):
        return turn.reply(wording.HOW_LATE)
    patient: str | None = None
    staff: str | None = None
    at = time.fromisoformat(frame["at"]) if frame.get("at") else None
    if at is not None:
        staff = (frame.get("staff") or {}).get("id") or turn.caller.staff_id
    else:
        chosen = need_patient(turn, frame)
        if isinstance(chosen, Reply):
            return chosen
        patient = chosen
    found = attendance.find(
        turn.db,
        turn.caller,
        attendance.Find(
            action,
            day,
            turn.now,
            patient=patient,
            staff=staff,
            at=at,
            session_type=frame.get("session_type"),
        ),
    )
    if not found:
        who = turn.names()(patient) if patient else f"you at {at:%H:%M}"
        return turn.reply(wording.no_session_to_mark(action, who, f"{day:%a %d %b}"))
    started = [f for f in found if f.start <= turn.now]
    if at is None and action in ("attended", "no_show") and len(started) > 1:
        detail = {"patient": patient, "minutes": frame.get("minutes")}
        turn.state.attendance = PendingAttendance("pick", action, [f.id for f in started], detail)
        text, actions = wording.which_session([_describe(turn, f, patient) for f in started])
        return turn.reply(text, actions=actions, appointments=[f.id for f in started])
    return _act(turn, action, found[0], patient, frame.get("minutes"))


def _describe(turn: Turn, appointment: AppointmentView, patient: str | None = None) -> str:
    clinical = may(turn.caller, "see_clinical_detail")
    return wording.session(appointment, turn.names(), turn.tz, clinical=clinical, patient=patient)


def _act(
    turn: Turn,
    action: str,
    appointment: AppointmentView,
    patient: str | None,
    minutes: int | None,
) -> Reply:
    if action in _DELAYS:
        kind = "late" if action == "running_late" else "over"
        return _delay(turn, knock_on.Delay(appointment.id, int(minutes or 0), kind), patient)
    described = _describe(turn, appointment, patient)
    if action == "late_cancel":  # a group member's: their place alone (patient in detail)
        turn.state.attendance = PendingAttendance(
            "one", action, [appointment.id], {"patient": patient}
        )
        text, actions = wording.confirm_mark(action, described)
        return turn.reply(text, actions=actions, appointments=[appointment.id])
    return _mark(turn, action, appointment.id, patient)


def _mark(
    turn: Turn,
    action: str,
    appointment_id: str,
    patient: str | None,
    override_reason: str | None = None,
) -> Reply:
    after = attendance.mark(
        turn.db,
        turn.caller,
        attendance.Mark(
            appointment_id,
            action,
            reason=wording.audit_reason("attendance", turn.cid, turn.caller.name),
            override_reason=override_reason,
            patient=patient,  # named: only their outcome (in a group the others keep theirs)
        ),
    )
    return turn.reply(
        wording.marked(action, _describe(turn, after, patient)), appointments=[after.id]
    )


# --- a whole day --------------------------------------------------------------------------------


def _day_command(
    turn: Turn, detail: dict[str, object], only: list[str] | None = None
) -> attendance.MarkDay:
    return attendance.MarkDay(
        staff=str(detail["staff"]),
        day=date.fromisoformat(str(detail["day"])),
        now=turn.now,
        action=str(detail["action"]),
        except_patients=tuple(detail.get("except_patients") or ()),  # type: ignore[call-overload]
        except_action=detail.get("except_action"),  # type: ignore[arg-type]
        reason=wording.audit_reason("attendance", turn.cid, turn.caller.name),
        only=tuple(only) if only is not None else None,
    )


def _plan_day(turn: Turn, frame: Frame, day: date) -> Reply:
    excepted = [m.get("id") for m in frame.get("except_patients") or []]
    if None in excepted:
        return turn.reply(wording.WHICH_PATIENT)
    detail: dict[str, object] = {
        "staff": (frame.get("staff") or {}).get("id") or turn.caller.staff_id,
        "day": day.isoformat(),
        "action": frame["action"],
        "except_patients": excepted,
        "except_action": frame.get("except_action"),
    }
    plan = attendance.plan_day(turn.db, turn.caller, _day_command(turn, detail))
    if not plan.sessions:
        return turn.reply(wording.NOTHING_TO_MARK)
    # "yes" writes these sessions and no others (a group's members as planned here).
    agreed = list(dict.fromkeys([a.id for a, _ in plan.marks] + [a.id for a, _, _ in plan.members]))
    turn.state.attendance = PendingAttendance("day", frame["action"], agreed, detail)
    text, actions = wording.day_plan(
        frame["action"],
        [(_describe(turn, a), act) for a, act in plan.marks]
        + [(_describe(turn, a, pid), act) for a, pid, act in plan.members],
        [(_left(turn, a, excepted), why) for a, why in plan.left if why != "not started yet"],
        sessions=plan.sessions,
    )
    ids = list(dict.fromkeys(agreed + [a.id for a, _ in plan.left]))
    return turn.reply(text, actions=actions, appointments=ids)


def _left(turn: Turn, appointment: AppointmentView, excepted: list[str]) -> str:
    """A session left unmarked, told by the excepted member when it is a group's."""
    named = [p for p in appointment.patients if p in excepted]
    patient = named[0] if named and len(appointment.patients) > 1 else None
    return _describe(turn, appointment, patient)


# --- unmarked -----------------------------------------------------------------------------------


def _unmarked(turn: Turn, frame: Frame, day: date) -> Reply:
    staff = (frame.get("staff") or {}).get("id")
    rows = attendance.unmarked(
        turn.db, turn.caller, attendance.Unmarked(day, turn.now, staff=staff)
    )
    mine = not attendance.sees_every_session(turn.caller)
    whose = (
        f"your sessions, {day:%a %d %b}"
        if mine or staff == turn.caller.staff_id
        else f"{turn.names()(staff)}, {day:%a %d %b}"
        if staff
        else f"the facility, {day:%a %d %b}"
    )
    described = [f"{_describe(turn, r)} [{wording.status(r.status)}]" for r in rows]
    return turn.reply(wording.unmarked(described, whose), appointments=[r.id for r in rows])


# --- a delay and its knock-on -------------------------------------------------------------------


def _delay(turn: Turn, delay: knock_on.Delay, patient: str | None) -> Reply:
    result = knock_on.knock_on(turn.db, turn.caller, delay)
    names, tz = turn.names(), turn.tz

    def clock(a: datetime, b: datetime) -> str:
        return f"{a:%H:%M}–{b:%H:%M}"

    runs = clock(result.start.astimezone(tz), result.end.astimezone(tz))
    effects = [
        wording.effect(
            _describe(turn, e.appointment),
            names.all(list(e.shares)),
            e.gap_before,
            e.gap_after,
        )
        for e in result.effects
    ]
    ways = []
    for way in result.ways:
        if way.key == "shorten":
            ends = result.appointment.end
            ways.append(
                wording.way_shorten(clock(result.start.astimezone(tz), ends.astimezone(tz)))
            )
        else:
            moved = [
                f"{names.all(appointments.current(turn.db, i).patients[:3])} to "
                f"{s.astimezone(tz):%H:%M}"
                for i, s, _ in way.moves[1:]
            ]
            ways.append(wording.way_push(moved, way.fits, way.problem, way.not_yours, names))
    turn.state.attendance = PendingAttendance(
        "delay",
        "running_late" if delay.kind == "late" else "running_over",
        [w.key for w in result.ways],
        {
            "appointment": delay.appointment_id,
            "minutes": delay.minutes,
            "kind": delay.kind,
            # a push that fits but is not the caller's to make is proposed when picked
            "propose": any(w.key == "push" and w.fits and w.not_yours for w in result.ways),
        },
    )
    text, actions = wording.knock_on(
        _describe(turn, result.appointment, patient), delay.kind, delay.minutes, runs, effects, ways
    )
    ids = [result.appointment.id] + [e.appointment.id for e in result.effects]
    return turn.reply(text, actions=actions, appointments=ids)


# --- the answer to a question -------------------------------------------------------------------


def answer(turn: Turn, option: int | None, override_reason: str | None = None) -> Reply:
    """ "yes" or a number, to the attendance question waiting in this conversation (a late
    cancellation a rule refuses stays asked, for "override: <reason>")."""
    pending = turn.state.attendance
    if pending is None:
        raise InvalidInput(wording.NOTHING_TO_CONFIRM_ERROR)
    if pending.kind in ("pick", "delay"):
        count = len(pending.candidates)
        if option is None:
            if count != 1:
                return turn.reply(wording.which_option(count))
            option = 1
        if not 1 <= option <= count:
            return turn.reply(wording.no_such_option(option, count))
        chosen = pending.candidates[option - 1]
        turn.state.attendance = None
        if pending.kind == "delay":
            return _absorb(turn, pending, chosen)
        patient = pending.detail.get("patient")
        appointment = appointments.current(turn.db, chosen)
        return _act(turn, pending.action, appointment, patient, pending.detail.get("minutes"))
    if pending.kind == "one":
        patient = pending.detail.get("patient")
        reply = _mark(turn, pending.action, pending.candidates[0], patient, override_reason)
        turn.state.attendance = None
        return reply
    turn.state.attendance = None
    command = _day_command(turn, pending.detail, pending.candidates)
    done = attendance.mark_day(turn.db, turn.caller, command)
    left = [a for a, why in done.left if why != "not started yet"]
    return turn.reply(
        wording.day_marked(done.sessions, len(left)),
        appointments=list(
            dict.fromkeys([a.id for a, _ in done.marks] + [a.id for a, _, _ in done.members])
        ),
    )


def _absorb(turn: Turn, pending: PendingAttendance, way: str) -> Reply:
    detail = pending.detail
    delay = knock_on.Delay(str(detail["appointment"]), int(detail["minutes"]), detail["kind"])
    if way == "push" and detail.get("propose"):
        return _propose_push(turn, delay)
    moved = knock_on.absorb(turn.db, turn.caller, knock_on.Absorb(delay, way))  # type: ignore[arg-type]
    if way == "shorten":
        return turn.reply(wording.SHORTENED, appointments=[a.id for a in moved])
    return turn.reply(
        wording.moved_for_delay([_describe(turn, a) for a in moved]),
        appointments=[a.id for a in moved],
    )


def _propose_push(turn: Turn, delay: knock_on.Delay) -> Reply:
    """The push stored as a proposal; those who may apply it are told, with its id."""
    proposal = knock_on.propose_push(turn.db, turn.caller, knock_on.ProposePush(delay))
    names = turn.names()
    text = wording.knock_on_proposal(proposal, names, turn.tz)
    approvers = [c.staff_id for c in callers.who_may(turn.db, knock_on.APPROVE)]
    notify = [
        {
            "staff": a,
            "kind": "approval_needed",
            "proposal": proposal["id"],
            "proposal_kind": knock_on.KIND,
            "text": text,
        }
        for a in approvers
    ]
    reply = wording.sent_for_approval(text, [names(a) for a in approvers], proposal["id"])
    return turn.reply(
        reply, notify=notify, appointments=[m["appointment"] for m in proposal["moves"]]
    )
