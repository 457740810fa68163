"""emergency_intake: the earliest safe slots today, or a proposal of the bumps that make room."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from assistant import callers
from assistant.access import authorize, may
from assistant.dialogue import wording
from assistant.dialogue.handlers.clarify import need_new_name, need_patient
from assistant.dialogue.handlers.find_slot import offer
from assistant.dialogue.handlers.records import authorization_record
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame, Pending
from assistant.dialogue.turn import Turn
from assistant.parse.records import authorization_details
from assistant.usecases import emergencies, patients
from clinic.errors import LikelyDuplicate

HORIZON = timedelta(hours=4)
WALK_IN_ACUITY = 5  # the facility file's highest clinical priority


def record_name(written: str) -> str:
    """The name a new patient's record carries: the mention keeps the words as typed ("maria
    lopez" in a hurried message); the record capitalizes each word the writer left lowercase."""
    return " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in written.split())


def emergency(turn: Turn, frame: Frame) -> Reply:
    admitted = ""
    mention = frame.get("patient") or {}
    if mention.get("new"):
        if not mention.get("text"):
            return need_new_name(turn, frame)
        walked_in = _admit_walk_in(turn, frame, record_name(mention["text"]))
        if isinstance(walked_in, Reply):
            return walked_in
        frame, admitted = walked_in
    patient = need_patient(turn, frame)
    if isinstance(patient, Reply):
        return patient
    authorize(turn.db, turn.caller, "emergency_intake", patient_id=patient)
    frame = dict(frame)
    frame["session_type"] = frame.get("session_type") or "intake_assessment"
    start, end = turn.window(frame, default=HORIZON)
    frame["window"] = {"start": start.isoformat(), "end": end.isoformat()}
    reply = offer(turn, frame, note=admitted + wording.EARLIEST_SAFE, soonest=True)
    if any(start <= o.start < end for o in turn.state.options):
        return reply
    # Nothing inside the window (at best the nearest slots outside it): propose what would make
    # room, for the clinical director to approve in one step.
    proposal = emergencies.propose_bumps(
        turn.db,
        turn.caller,
        emergencies.ProposeBumps(
            patient,
            frame["session_type"],
            start,
            end,
            turn.now,
            staff=(frame.get("staff") or {}).get("id"),
        ),
    )
    if proposal is None:
        return reply
    names = turn.names()
    text = wording.emergency_proposal(
        proposal, names, turn.tz, clinical=may(turn.caller, "see_clinical_detail")
    )
    if may(turn.caller, emergencies.APPROVE):
        text, actions = wording.approve_or_reject(text, proposal["id"])
        reply.reply = f"{reply.reply}\n{text}"
        reply.actions = [*actions, *reply.actions]
        return reply
    approvers = [c.staff_id for c in callers.who_may(turn.db, emergencies.APPROVE)]
    reply.reply = f"{reply.reply}\n" + wording.sent_for_approval(
        text, [names(a) for a in approvers], proposal["id"]
    )
    reply.notify = [
        *reply.notify,
        *(
            {
                "staff": a,
                "kind": "approval_needed",
                "proposal": proposal["id"],
                "proposal_kind": emergencies.KIND,
                "text": text,
            }
            for a in approvers
        ),
    ]
    return reply


def _admit_walk_in(turn: Turn, frame: Frame, name: str) -> tuple[Frame, str] | Reply:
    """Admit a walk-in with the least an assessment needs: the name. The phase is intake (the
    use case's default) and the level of care is left for the assessment to set; acuity is the
    highest until then, so the solver may move lower-priority sessions to see them. A payer
    authorization the words name ("Medicaid, 24 units through Jan 31") is recorded with them.
    Someone already in care under that name or phone is asked about first ('same' or 'new')."""
    said = dict(frame.get("details") or {})  # what the words said besides the name
    said.setdefault("authorization", authorization_details(turn.text.lower(), turn.now))
    frame = {**frame, "details": said}
    auth = said.get("authorization") or {}
    window = frame.get("window") or {}
    if str(window.get("start", ""))[:10] in {auth.get("start"), auth.get("end")} - {None}:
        frame["window"] = None  # "through Jan 31" is the authorization's end, not when to see them
    record: dict[str, Any] = {
        "name": name,
        "acuity": WALK_IN_ACUITY,
        **{k: said[k] for k in ("level_of_care", "needs") if said.get(k)},
    }
    if all(auth.get(k) for k in ("payer", "units", "end")):
        record["authorizations"] = [authorization_record(turn, auth)]
    mention = frame.get("patient") or {}
    try:
        stored = patients.admit(
            turn.db,
            turn.caller,
            patients.Admit(
                record, reason="emergency walk-in", duplicate_ok=bool(mention.get("another"))
            ),
        )
    except LikelyDuplicate as exc:
        asked = {**mention, "existing": exc.existing}
        turn.state.pending = Pending({**frame, "patient": asked}, [exc.existing["id"]])
        today = turn.now.astimezone(turn.tz).date()
        return turn.reply(
            wording.same_walk_in(exc.existing, today, turn.tz), actions=wording.SAME_OR_NEW
        )
    namesakes = [p.id for p in turn.facts.roster().patients if p.name.casefold() == name.casefold()]
    frame = {**frame, "patient": {"text": name, "id": stored["id"]}}
    turn.frame = frame
    others = len([p for p in namesakes if p != stored["id"]])
    text = wording.admitted_walk_in(stored["name"], others)
    if auth and "authorizations" not in record:
        text += wording.WALK_IN_AUTHORIZATION_INCOMPLETE
    elif stored.get("authorizations"):
        text += wording.walk_in_authorization(stored["authorizations"][0], turn.names())
    return frame, text
