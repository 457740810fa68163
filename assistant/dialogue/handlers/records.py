"""Living-record requests in a conversation: admit, discharge, a new level of care or phase, a
payer authorization, a Part 2 consent recorded or revoked, a transfer to another program of the
network (asked to confirm like a discharge: it is one here).

Each asks for what is missing, one question at a time, then says what it will do and waits for
"yes"; only then does it call the use case (assistant.usecases.patients), which checks the
record as the facility file would. Nothing is written before the "yes", nor when a check fails.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from assistant import tenancy
from assistant.access import authorize
from assistant.dialogue import wording
from assistant.dialogue.handlers.clarify import need_patient
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame, PendingRecord
from assistant.dialogue.turn import Turn
from assistant.parse.records import (
    authorization_details,
    information_of,
    level_of,
    recipient_of,
)
from assistant.usecases import paperwork, patients, transfers
from clinic.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from clinic.queries import appointments_between

DEFAULT_AUTH_TYPES = ("intake_assessment", "individual", "group", "family", "case_management")
"""What an authorization named in chat covers unless said otherwise (change it over HTTP or
the command line): the sessions a level-of-care program is usually authorized for."""
_LOOK_AHEAD = timedelta(days=366)
_LIST = 5  # sessions named in a discharge's question; the rest are counted


def start(turn: Turn, frame: Frame) -> Reply:
    """A new request: who it is about, whether the caller may, then what is missing."""
    action = frame["action"]
    patient: str | None = None
    if action != "admit_patient":
        found = need_patient(turn, frame)
        if isinstance(found, Reply):
            return found
        patient = found
    authorize(turn.db, turn.caller, patients.PERMISSION_OF[action], patient_id=patient)
    turn.state.record = PendingRecord(action, patient, dict(frame.get("details") or {}))
    return _next(turn)


def answer(turn: Turn) -> Reply:
    """The answer to the question asked (the message as a whole)."""
    record = turn.state.record
    assert record is not None and record.missing is not None
    text, low, details = turn.text.strip(), turn.text.strip().lower(), record.details
    key = record.missing
    if key == "name":
        details["name"] = " ".join(w.capitalize() if w.islower() else w for w in text.split())
    elif key == "level_of_care":
        details["level_of_care"] = level_of(low) or level_of(f"level {low}")
    elif key in ("reason", "to"):
        details[key] = text
    elif key == "recipient":
        details["recipient"] = recipient_of(f"with {text}") or low
    elif key == "information":
        details["information"] = information_of(low) or text
    else:  # a piece of an authorization
        auth = details.setdefault("authorization", {}) if _admitting(record) else details
        said = authorization_details(low, turn.now) or {}
        if key == "end" and "end" not in said:
            said = authorization_details(f"through {low}", turn.now) or {}
        if key == "units" and "units" not in said and low.split()[0].isdigit():
            said["units"] = int(low.split()[0])
        if key == "payer" and "payer" not in said:
            said["payer"] = text
        auth.update(said)
    return _next(turn)


def confirm(turn: Turn, override_reason: str | None = None) -> Reply:
    """ "yes": make the change. A refused record says why, and nothing is written."""
    record = turn.state.record
    assert record is not None
    if record.missing is not None:
        return _next(turn)
    names = turn.names()
    try:
        reply = _DO[record.action](turn, record, override_reason)
    except InvalidInput as exc:
        turn.state.record = None
        return turn.reply(wording.record_refused(exc, names))
    except RuleViolation:
        turn.state.awaiting_override = None  # "override: <reason>" retries the record
        raise
    turn.state.record = None
    return reply


def decline(turn: Turn) -> Reply:
    turn.state.record = None
    return turn.reply(wording.LEFT_AS_IT_WAS)


# -- what is missing, and the question that says what will be done -------------------------------


def _next(turn: Turn) -> Reply:
    record = turn.state.record
    assert record is not None
    record.missing = _missing(record)
    if record.missing is not None:
        if record.missing == "reason" and record.action == "transfer_patient":
            return turn.reply(wording.transfer_reason(_name(turn, record)))
        if record.missing == "reason":
            return turn.reply(wording.discharge_reason(_name(turn, record)))
        return turn.reply(wording.RECORD_QUESTIONS[record.missing])
    return _ASK[record.action](turn, record)


def _missing(record: PendingRecord) -> str | None:
    d = record.details
    if record.action == "admit_patient":
        needed = ["name", "level_of_care"]
        if d.get("authorization"):
            needed += [f for f in ("payer", "units", "end") if f not in d["authorization"]]
            return next((f for f in needed if f in ("payer", "units", "end") or not d.get(f)), None)
        return next((f for f in needed if not d.get(f)), None)
    needed = {
        "discharge_patient": ["reason"],
        "add_authorization": ["payer", "units", "end"],
        "record_consent": ["recipient", "information"],
        "revoke_consent": ["recipient"],
        "transfer_patient": ["to", "reason"],
    }.get(record.action, [])
    return next((f for f in needed if not d.get(f)), None)


def _ask_admit(turn: Turn, record: PendingRecord) -> Reply:
    draft = _admission(turn, record)
    # Someone in care who looks like the same person is named in the question, so the "yes"
    # that follows admits another person knowingly (never silently twice).
    existing = patients.likely_duplicate(turn.db, turn.caller, draft)
    record.details["duplicate_of"] = existing["id"] if existing else None
    text = wording.confirm_admit(draft, turn.names(), existing)
    return turn.reply(text, actions=wording.RECORD_YES)


def _ahead(turn: Turn, patient: str) -> list[Any]:
    """The patient's sessions still to come (what a discharge cancels or leaves)."""
    with turn.db.read() as session:
        rows = appointments_between(session, turn.now, turn.now + _LOOK_AHEAD, patient=patient)
    return [r for r in rows if r.status in ("booked", "proposed", "checked_in")]


def _ask_discharge(turn: Turn, record: PendingRecord) -> Reply:
    assert record.patient is not None
    rows = _ahead(turn, record.patient)
    alone = [r for r in rows if len(r.patients) == 1]
    listed = [turn.describe(r) for r in alone[:_LIST]]
    if len(alone) > _LIST:
        listed.append(f"and {len(alone) - _LIST} more")
    text = wording.confirm_discharge(
        _name(turn, record), record.details["reason"], listed, len(rows) - len(alone)
    )
    return turn.reply(text, actions=wording.RECORD_YES, appointments=[r.id for r in alone])


def _ask_transfer(turn: Turn, record: PendingRecord) -> Reply:
    assert record.patient is not None
    d = record.details
    try:
        d["facility"] = tenancy.facility_named(turn.db, d["to"])
    except NotFound as exc:
        turn.state.record = None
        return turn.reply(wording.record_refused(exc, turn.names()))
    if d["facility"] == turn.db.facility:
        turn.state.record = None
        return turn.reply(f"{_name(turn, record)} is at {d['to']} already; nothing was changed.")
    try:  # refused there (nobody, or no right to admit): said before any "yes"
        with tenancy.at_facility(turn.db, turn.caller, d["facility"]) as (target, arriving):
            authorize(target, arriving, "admit_patient")
    except PermissionDenied:
        turn.state.record = None
        raise
    text = wording.confirm_transfer(
        _name(turn, record),
        _facility_words(turn, d["facility"]),
        d["reason"],
        d.get("level_of_care"),
        len(_ahead(turn, record.patient)),
    )
    return turn.reply(text, actions=wording.RECORD_YES)


def _ask_update(turn: Turn, record: PendingRecord) -> Reply:
    text = wording.confirm_update(_name(turn, record), record.details)
    return turn.reply(text, actions=wording.RECORD_YES)


def _ask_authorization(turn: Turn, record: PendingRecord) -> Reply:
    auth = authorization_record(turn, record.details)
    text = wording.confirm_authorization(_name(turn, record), auth, turn.names())
    return turn.reply(text, actions=wording.RECORD_YES)


def _ask_consent(turn: Turn, record: PendingRecord) -> Reply:
    text = wording.confirm_consent(_name(turn, record), record.details)
    return turn.reply(text, actions=wording.RECORD_YES)


def _ask_revoke(turn: Turn, record: PendingRecord) -> Reply:
    text = wording.confirm_revoke(_name(turn, record), record.details["recipient"])
    return turn.reply(text, actions=wording.RECORD_YES)


# -- doing it ----------------------------------------------------------------------------------


def _admit(turn: Turn, record: PendingRecord, override: str | None) -> Reply:
    stored = patients.admit(
        turn.db,
        turn.caller,
        patients.Admit(
            _admission(turn, record),
            reason=wording.audit_reason("admit", turn.cid),
            duplicate_ok=bool(record.details.get("duplicate_of")),
        ),
    )
    return turn.reply(wording.admitted(stored))


def _discharge(turn: Turn, record: PendingRecord, override: str | None) -> Reply:
    assert record.patient is not None
    out = patients.discharge(
        turn.db,
        turn.caller,
        patients.Discharge(
            record.patient, record.details["reason"], override_reason=override, now=turn.now
        ),
    )
    names = turn.names()
    told = [wording.notice(n, names) for n in out["notify"]]
    sessions = [
        f"{names.kind(c['session_type'])} {datetime.fromisoformat(c['start']):%a %d %b %H:%M}"
        for c in out["cancelled"]
    ]
    kept = [
        f"{names.kind(k['session_type'])} {datetime.fromisoformat(k['start']):%a %d %b %H:%M} "
        f"({wording.plain(k['reason'], names)})"
        for k in out["kept"]
    ]
    text = wording.discharged(_name(turn, record), sessions, told, len(out["left"]), kept)
    return turn.reply(text, notify=out["notify"], appointments=[c["id"] for c in out["cancelled"]])


def _transfer(turn: Turn, record: PendingRecord, override: str | None) -> Reply:
    assert record.patient is not None
    d = record.details
    with tenancy.at_facility(turn.db, turn.caller, d["facility"]) as (target, arriving):
        done = transfers.transfer(
            turn.db,
            target,
            turn.caller,
            arriving,
            transfers.Transfer(
                record.patient, d["reason"], d.get("level_of_care"), override, now=turn.now
            ),
        )
    text = wording.transferred(
        _name(turn, record),
        _facility_words(turn, done.to_facility),
        done.to_patient,
        done.cancelled,
    )
    return turn.reply(text)


def _update(turn: Turn, record: PendingRecord, override: str | None) -> Reply:
    assert record.patient is not None
    changes = {k: v for k, v in record.details.items() if k in ("level_of_care", "phase")}
    stored = patients.update(
        turn.db,
        turn.caller,
        patients.Update(record.patient, changes, reason=wording.audit_reason("update", turn.cid)),
    )
    return turn.reply(wording.updated(_name(turn, record), stored, turn.names()))


def _add_authorization(turn: Turn, record: PendingRecord, override: str | None) -> Reply:
    assert record.patient is not None
    auth = authorization_record(turn, record.details)
    paperwork.add_authorization(
        turn.db, turn.caller, paperwork.AddAuthorization(record.patient, auth)
    )
    return turn.reply(wording.authorization_added(_name(turn, record), auth, turn.names()))


def _record_consent(turn: Turn, record: PendingRecord, override: str | None) -> Reply:
    assert record.patient is not None
    consent = {
        k: record.details[k] for k in ("recipient", "information", "until") if record.details.get(k)
    }
    paperwork.record_consent(turn.db, turn.caller, paperwork.RecordConsent(record.patient, consent))
    return turn.reply(wording.consent_recorded(_name(turn, record), consent))


def _revoke_consent(turn: Turn, record: PendingRecord, override: str | None) -> Reply:
    assert record.patient is not None
    recipient = record.details["recipient"]
    paperwork.revoke_consent(
        turn.db, turn.caller, paperwork.RevokeConsent(record.patient, recipient)
    )
    return turn.reply(wording.consent_revoked(_name(turn, record), recipient))


_ASK = {
    "admit_patient": _ask_admit,
    "discharge_patient": _ask_discharge,
    "update_patient": _ask_update,
    "add_authorization": _ask_authorization,
    "record_consent": _ask_consent,
    "revoke_consent": _ask_revoke,
    "transfer_patient": _ask_transfer,
}
_DO = {
    "admit_patient": _admit,
    "discharge_patient": _discharge,
    "update_patient": _update,
    "add_authorization": _add_authorization,
    "record_consent": _record_consent,
    "revoke_consent": _revoke_consent,
    "transfer_patient": _transfer,
}


# -- pieces ------------------------------------------------------------------------------------


def _admitting(record: PendingRecord) -> bool:
    return record.action == "admit_patient"


def _admission(turn: Turn, record: PendingRecord) -> dict[str, Any]:
    """The facility file's patient object the words describe."""
    d = record.details
    out: dict[str, Any] = {"name": d["name"], "level_of_care": d["level_of_care"]}
    for key in ("needs", "primary_clinician"):
        if d.get(key):
            out[key] = d[key]
    if d.get("authorization"):
        out["authorizations"] = [authorization_record(turn, d["authorization"])]
    return out


def authorization_record(turn: Turn, said: dict[str, Any]) -> dict[str, Any]:
    """The facility file's authorization object the words describe."""
    types = [t for t in DEFAULT_AUTH_TYPES if t in turn.facts.roster().session_types]
    today = turn.now.astimezone(turn.tz).date().isoformat()
    return {
        "payer": said["payer"],
        "session_types": said.get("session_types") or types,
        "units": said["units"],
        "start": said.get("start") or today,
        "end": said["end"],
    }


def _facility_words(turn: Turn, facility: str) -> str:
    names = {f["id"]: f["name"] for f in tenancy.listing(turn.db)}
    return f"{names.get(facility, facility)} ({facility})"


def _name(turn: Turn, record: PendingRecord) -> str:
    return turn.names()(record.patient) if record.patient else record.details.get("name", "")
