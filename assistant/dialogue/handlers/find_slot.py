"""find_slot / book: offer the best slots for a patient, and more on "none of those"."""

from __future__ import annotations

from typing import Any

from assistant.access import authorize, patient_fields
from assistant.dialogue import wording
from assistant.dialogue.handlers.clarify import need_patient
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame, Option, SlotSearch
from assistant.dialogue.turn import DEFAULT_HORIZON, Turn
from assistant.optimize import SlotsQuery, offer_slots, option_risks
from clinic import access_log

OPTIONS_PER_ANSWER = 3
SOONEST_POOL = 30
"""How many of the best-scored options an emergency ranks by time."""
MORE_WEEKS = 3
"""How many weeks further "none of those" looks when nothing new is left."""


def offer(turn: Turn, frame: Frame, *, note: str = "", soonest: bool = False) -> Reply:
    patient = need_patient(turn, frame)
    if isinstance(patient, Reply):
        return patient
    authorize(turn.db, turn.caller, "find_slot", patient_id=patient)
    access_log.record_reads(turn.db, turn.caller, access_log.SLOTS_SEARCH, [patient])
    start, end = turn.window(frame)
    if end <= turn.now:
        return turn.reply(wording.TIME_PASSED)
    turn.state.request = SlotSearch(
        patient=patient,
        session_type=frame.get("session_type") or "individual",
        start=start,
        end=end,
        staff=(frame.get("staff") or {}).get("id"),
        needs=frame.get("needs") or [],
        minutes=frame.get("duration_minutes"),
        soonest=soonest,
    )
    turn.state.offered = []
    turn.state.move_of = None
    return present(turn, note)


def present(turn: Turn, note: str = "") -> Reply:
    """Options for the request on offer that were not offered before (or the nearest ones)."""
    state = turn.state
    request = state.request
    assert request is not None
    offered = {o.key for o in state.offered}
    query = SlotsQuery(
        patient=request.patient,
        session_type=request.session_type,
        start=request.start,
        end=request.end,
        staff=request.staff,
        needs=tuple(request.needs),
        # Soonest first: rank a wider pool by time (every option in it is safe; time matters most).
        k=(SOONEST_POOL if request.soonest else OPTIONS_PER_ANSWER) + len(offered),
        emergency=request.soonest,  # only an emergency asks for the soonest: it may take held slots
    )
    answer, built = offer_slots(turn.db, query, now=turn.now)
    clock = built.clock

    def as_option(o: Any) -> Option:
        return Option(
            start=clock.moment(o.start),
            end=clock.moment(o.end),
            staff=list(o.staff),
            room=o.room,
            score=round(o.score, 2),
            why=dict(o.why),
        )

    fresh = [o for o in map(as_option, answer.options) if o.key not in offered]
    if request.soonest:
        fresh.sort(key=lambda o: o.start)
    fresh = fresh[:OPTIONS_PER_ANSWER]
    nearest = False
    if not fresh and answer.nearest:  # "none of those" must not show the same nearest again
        fresh = [o for o in map(as_option, answer.nearest) if o.key not in offered]
        fresh, nearest = fresh[:OPTIONS_PER_ANSWER], True
    names = turn.names()
    # What was asked for is said back only as far as the caller may see it of the patient.
    visible = patient_fields(turn.db, turn.caller, request.patient)
    kind = request.session_type if "session_type" in visible else None
    needs = request.needs if "needs" in visible else ()
    if not fresh:
        state.options = []
        return turn.reply(
            note + wording.no_slot(kind, needs, request.patient, answer.reason, names)
        )
    state.options = fresh
    state.offered = state.offered + fresh
    risks = option_risks(
        turn.db,
        turn.caller,
        request.patient,
        request.session_type,
        [(o.start, o.staff) for o in fresh],
        turn.now,
    ) or [None] * len(fresh)
    described = [
        f"{wording.option(o.start, o.end, o.staff, o.room, names, turn.tz)} — {wording.why(o.why)}"
        f"{wording.no_show_flag(risk)}"
        for o, risk in zip(fresh, risks, strict=True)
    ]
    text, actions = wording.options_offered(
        note,
        request.patient,
        kind,
        needs,
        described,
        names,
        nearest=nearest,
        reason=answer.reason,
    )
    return turn.reply(
        text,
        options=[
            _option_json(turn, i, o, names, risk)
            for i, (o, risk) in enumerate(zip(fresh, risks, strict=True), 1)
        ],
        actions=actions,
    )


def more(turn: Turn) -> Reply:
    """ "none of those": the next options; past three answers, or when none are left, a week
    further (up to MORE_WEEKS)."""
    request = turn.state.request
    if request is None:
        return turn.reply(wording.NOTHING_ON_OFFER)
    note = ""
    if len(turn.state.offered) >= 3 * OPTIONS_PER_ANSWER:
        request.end += DEFAULT_HORIZON
        turn.state.offered = []
        note = wording.WIDENED
    reply = present(turn, note)
    for _ in range(MORE_WEEKS):
        if reply.options:
            break
        request.end += DEFAULT_HORIZON
        reply = present(turn, wording.looked_further(request.end, turn.tz))
    return reply


def _option_json(
    turn: Turn, n: int, o: Option, names: wording.Names, risk: float | None
) -> dict[str, Any]:
    option = {
        "option": n,
        "start": o.start.astimezone(turn.tz).isoformat(),
        "end": o.end.astimezone(turn.tz).isoformat(),
        "staff": o.staff,
        "staff_names": [names(s) for s in o.staff],
        "room": o.room,
        "score": o.score,
        "why": o.why,
        "summary": wording.why(o.why),
    }
    if risk is not None:  # only to whoever the pack lets see it
        option["no_show_risk"] = round(risk, 2)
    return option


__all__ = ["OPTIONS_PER_ANSWER", "more", "offer", "present"]
