"""`rota patient …`: a patient's living record from the command line (the same use cases as
HTTP and chat). Records are the facility file's objects, read from a JSON or YAML file or `-`
(standard input)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant import break_glass
from assistant.usecases import paperwork, patients, transfers
from clinic.db import Database, open_database
from clinic.errors import InvalidInput
from clinic.facility_file import parse_text, read_file
from clinic.tokens import Caller
from integrations.cli import identity

OPERATOR = "operator"
Actor = Annotated[
    str,
    typer.Option(help="Who is making the change (a staff id); recorded in the audit log."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Source = Annotated[str, typer.Argument(help="A JSON or YAML file with the record, or - for stdin.")]
Reason = Annotated[str | None, typer.Option(help="Why (kept in the audit log).")]
DuplicateOk = Annotated[
    bool,
    typer.Option(
        "--duplicate-ok", help="Admit even if a patient in care looks like the same person."
    ),
]


def _db() -> Database:
    return open_database()


def _caller(db: Database, actor: str) -> Caller:
    return identity.caller(db, actor)


def _read(source: str) -> dict[str, Any]:
    if source != "-":
        return read_file(Path(source))
    data = parse_text(sys.stdin.read(), "stdin")
    if not isinstance(data, dict):
        raise InvalidInput("stdin: a record is one object (mapping)", ["$: expected an object"])
    return data


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _summary(record: dict[str, Any]) -> str:
    parts = [f"{record['id']}  {record.get('name', '')}"]
    for key in ("level_of_care", "phase", "primary_clinician"):
        if record.get(key):
            parts.append(f"{key.replace('_', ' ')}: {record[key]}")
    return "  ".join(parts)


def _done(record: dict[str, Any], as_json: bool, what: str) -> None:
    if as_json:
        _echo_json(record)
    else:
        typer.echo(f"{what}: {_summary(record)}")


patient_app = typer.Typer(help="Patients: admit, show, update, discharge.", add_completion=False)
auth_app = typer.Typer(help="A patient's payer authorizations.", add_completion=False)
court_app = typer.Typer(help="A patient's court order.", add_completion=False)
consent_app = typer.Typer(help="A patient's Part 2 consents.", add_completion=False)
patient_app.add_typer(auth_app, name="auth")
patient_app.add_typer(court_app, name="court")
patient_app.add_typer(consent_app, name="consent")


@patient_app.command("add")
def add(
    source: Source,
    reason: Reason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
    duplicate_ok: DuplicateOk = False,
) -> None:
    """Admit a patient (the facility file's patient object; an id is made when absent). A
    patient in care with the same name (and date of birth) or phone stops it (exit 5) unless
    --duplicate-ok says this is another person."""
    db = _db()
    cmd = patients.Admit(_read(source), reason, duplicate_ok)
    record = patients.admit(db, _caller(db, actor), cmd)
    _done(record, as_json, "admitted")


EmergencyReason = Annotated[
    str | None,
    typer.Option(
        "--reason",
        help="Emergency access to a patient outside ACTOR's caseload: why (two words or more; "
        "written to the audit log and reported to the clinical director).",
    ),
]


@patient_app.command("show")
def show(
    patient_id: str,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
    reason: EmergencyReason = None,
) -> None:
    """The record as ACTOR may see it, with each authorization's units used / booked / left."""
    db = _db()
    opened = break_glass.of(reason, "cli")
    shown = patients.show(db, _caller(db, actor), patients.Show(patient_id, opened))
    if as_json:
        _echo_json(shown)
        return
    typer.echo(_summary(shown["patient"]))
    for auth in shown.get("authorizations", []):
        typer.echo(
            f"  {auth['id']}  {auth['payer']}  {auth['start']}..{auth['end']}  "
            f"{auth['units']} units: {auth['used']} used, {auth['booked']} booked, "
            f"{auth['left']} left"
        )


@patient_app.command("update")
def update(
    patient_id: str,
    source: Source,
    reason: Reason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Merge the fields of a (partial) patient object into the record."""
    db = _db()
    record = patients.update(
        db, _caller(db, actor), patients.Update(patient_id, _read(source), reason)
    )
    _done(record, as_json, "updated")


@patient_app.command("transfer")
def transfer(
    patient_id: str,
    to: Annotated[str, typer.Option("--to", help="The receiving facility of the network.")],
    reason: Annotated[str, typer.Option(help="Why (required).")],
    level_of_care: Annotated[
        str | None, typer.Option(help="The level of care there (default: the same).")
    ] = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Transfer a patient of this facility (--facility) to another program of the network:
    admitted there with their authorizations and court order, discharged here, both audited
    and linked (`rota patient transfer p0002 --facility north --to south --level-of-care iop`)."""
    source = _db()
    target = open_database(facility=to)
    done = transfers.transfer(
        source,
        target,
        _caller(source, actor),
        _caller(target, actor),
        transfers.Transfer(patient_id, reason, level_of_care),
    )
    if as_json:
        _echo_json({**done.__dict__})
        return
    typer.echo(
        f"transferred {done.from_patient} ({done.from_facility}) to {done.to_facility} as "
        f"{done.to_patient}: {_summary(done.record)}; {done.cancelled} session(s) ahead "
        f"cancelled at {done.from_facility}"
    )


@patient_app.command("discharge")
def discharge(
    patient_id: str,
    reason: Annotated[str, typer.Option(help="Why (required).")],
    override_reason: Annotated[
        str | None, typer.Option(help="A reason that overrides a rule which allows overrides.")
    ] = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Discharge: every future session is cancelled (listed), with who must be told."""
    db = _db()
    out = patients.discharge(
        db, _caller(db, actor), patients.Discharge(patient_id, reason, override_reason)
    )
    if as_json:
        _echo_json(out)
        return
    typer.echo(f"discharged: {_summary(out['patient'])}")
    for appt in out["cancelled"]:
        typer.echo(f"  cancelled {appt['id']}  {appt['start']}  {appt['session_type']}")
    for appt in out["left"]:
        typer.echo(f"  left group session {appt['id']}  {appt['start']}")
    for appt in out["kept"]:
        typer.echo(f"  still in {appt['id']}  {appt['start']}: {appt['reason']}")
    for group in out["groups"]:
        typer.echo(f"  left group {group}")
    for notice in out["notify"]:
        who = notice.get("staff") or notice.get("patient")
        typer.echo(f"  tell {who}: {notice['kind']} ({notice['count']})")


@auth_app.command("add")
def auth_add(
    patient_id: str,
    source: Source,
    reason: Reason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Add an authorization (the file's authorization object)."""
    db = _db()
    record = paperwork.add_authorization(
        db, _caller(db, actor), paperwork.AddAuthorization(patient_id, _read(source), reason)
    )
    _done(record, as_json, "authorization added")


@auth_app.command("renew")
def auth_renew(
    patient_id: str,
    auth_id: str,
    start: Annotated[str, typer.Option(help="First day YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last day YYYY-MM-DD.")],
    units: Annotated[int, typer.Option(help="Units authorized for the new period.")],
    new_id: Annotated[str | None, typer.Option("--id", help="The new authorization's id.")] = None,
    reason: Reason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """A new period of the same payer's authorization."""
    db = _db()
    record = paperwork.renew_authorization(
        db,
        _caller(db, actor),
        paperwork.RenewAuthorization(
            patient_id, auth_id, start=start, end=end, units=units, new_id=new_id, reason=reason
        ),
    )
    _done(record, as_json, "authorization renewed")


@auth_app.command("adjust")
def auth_adjust(
    patient_id: str,
    auth_id: str,
    units: Annotated[int | None, typer.Option(help="Units authorized.")] = None,
    used: Annotated[int | None, typer.Option(help="Units documented before Rota.")] = None,
    start: Annotated[str | None, typer.Option(help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option(help="Last day YYYY-MM-DD.")] = None,
    reason: Reason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Adjust an authorization's units or dates."""
    changes = {
        k: v
        for k, v in {"units": units, "used": used, "start": start, "end": end}.items()
        if v is not None
    }
    if not changes:
        raise InvalidInput("nothing to adjust: give --units, --used, --start or --end")
    db = _db()
    record = paperwork.adjust_authorization(
        db, _caller(db, actor), paperwork.AdjustAuthorization(patient_id, auth_id, changes, reason)
    )
    _done(record, as_json, "authorization adjusted")


@court_app.command("add")
def court_add(
    patient_id: str,
    source: Source,
    reason: Reason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Add the patient's court order (the file's court_order object)."""
    db = _db()
    record = paperwork.add_court_order(
        db, _caller(db, actor), paperwork.AddCourtOrder(patient_id, _read(source), reason)
    )
    _done(record, as_json, "court order added")


@court_app.command("end")
def court_end(
    patient_id: str,
    end: Annotated[str, typer.Option(help="Last day YYYY-MM-DD.")],
    reason: Reason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """End the court order on a day."""
    db = _db()
    record = paperwork.end_court_order(
        db, _caller(db, actor), paperwork.EndCourtOrder(patient_id, end, reason)
    )
    _done(record, as_json, "court order ended")


@consent_app.command("add")
def consent_add(
    patient_id: str,
    to: Annotated[str, typer.Option("--to", help="The recipient (e.g. probation, family:sister).")],
    what: Annotated[str, typer.Option("--what", help="What may be disclosed (e.g. attendance).")],
    until: Annotated[str | None, typer.Option(help="Last day in force YYYY-MM-DD.")] = None,
    purpose: Annotated[str | None, typer.Option(help="Why the patient consents.")] = None,
    reason: Reason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Record a Part 2 consent: to whom, what, until when."""
    consent = {"recipient": to, "information": what, "until": until, "purpose": purpose}
    db = _db()
    record = paperwork.record_consent(
        db,
        _caller(db, actor),
        paperwork.RecordConsent(
            patient_id, {k: v for k, v in consent.items() if v is not None}, reason
        ),
    )
    _done(record, as_json, f"consent to {to} recorded")


@consent_app.command("revoke")
def consent_revoke(
    patient_id: str,
    to: Annotated[str, typer.Option("--to", help="The recipient.")],
    reason: Reason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Revoke every consent in force to the recipient, from today."""
    db = _db()
    record = paperwork.revoke_consent(
        db, _caller(db, actor), paperwork.RevokeConsent(patient_id, to, reason)
    )
    _done(record, as_json, f"consent to {to} revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(patient_app, name="patient")
