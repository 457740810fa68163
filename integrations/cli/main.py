"""`rota …`: the operator's door. Errors become one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import os
import sys
import traceback
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant import access, callers, tenancy
from assistant.usecases import (
    AppointmentView,
    appointments,
    exchange,
    feeds,
    people,
    records,
    web_sign_in,
)
from assistant.wiring import load_facility_file
from clinic import backup
from clinic.db import Database, database_url, encrypt_database, open_database, shown_url
from clinic.demo import SIZES, generate_demo
from clinic.demo.network import MOST_SITES, demo_network
from clinic.errors import InvalidInput, PermissionDenied, RotaError
from clinic.facility_file import dump, read_file
from clinic.network import FACILITY_ENV, SQLITE_REFUSAL, check_facility_id, facility_in_force
from clinic.timeutil import local_iso, parse_date, parse_datetime
from clinic.tokens import DEFAULT_DAYS, DEFAULT_SCOPE, Caller
from integrations.cli import identity, nlu_cmds
from integrations.cli.output import write_atomically
from integrations.http.server import Tls, check_tls, uvicorn_options
from integrations.log_policy import log_format, protect_logs

app = typer.Typer(
    name="rota",
    help="Rota: scheduling for addiction-treatment facilities.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database: where it is, and its schema.", add_completion=False)
audit_app = typer.Typer(
    help="The append-only, hash-chained audit log, and who saw which patient (the access log).",
    add_completion=False,
)
token_app = typer.Typer(help="Bearer tokens for the HTTP API.", add_completion=False)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(token_app, name="token")
nlu_cmds.register(app)  # rota parse, rota redact

ACTOR_HELP = "Who is making the change (a staff id or a name); recorded in the audit log."
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Actor = Annotated[str, typer.Option(help=ACTOR_HELP)]
OverrideReason = Annotated[
    str | None, typer.Option(help="A reason that overrides a rule which allows overrides.")
]


OPERATOR = "operator"
DEFAULT_BASE = "http://127.0.0.1:8000"  # `rota serve`'s default address
"""Who the command line acts as without --actor (its roles come from the permissions pack)."""


def _db() -> Database:
    return open_database()


def _caller(db: Database, actor: str) -> Caller:
    return identity.caller(db, actor)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@app.callback(invoke_without_command=True)
def root(ctx: typer.Context) -> None:
    """With no command: say where the database is and what to do next.

    Every command takes `--facility ID` (or ROTA_FACILITY): one facility of a network of
    facilities on PostgreSQL (`rota load FILE --facility ID` adds one; `rota network list`)."""
    if ctx.invoked_subcommand is None:
        typer.echo(f"database: {shown_url(database_url())}")
        chosen = facility_in_force()
        if chosen:
            typer.echo(f"facility: {chosen}")
        typer.echo("try: rota demo --load   then   rota agenda   (rota --help lists every command)")


# --- database and facility file ----------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (also done automatically on first use). On a network of
    facilities with no --facility: the network's schema and every facility's."""
    db = _db()
    typer.echo(f"database {db.describe()} is at the newest schema")
    if db.facility is None:
        facilities = tenancy.upgrade_every_facility(db)
        if facilities:
            typer.echo(f"network schema and facilities {', '.join(facilities)}: at the newest")


@db_app.command("where")
def db_where() -> None:
    """Print the database URL in force (ROTA_DATABASE_URL or the embedded default), without
    its password."""
    typer.echo(shown_url(database_url()))


@db_app.command("encrypt")
def db_encrypt(
    remove_plain: Annotated[
        bool,
        typer.Option(
            "--remove-plain",
            help="Delete the plain original once the encrypted file is in place "
            "(default: keep it as NAME.plain until you have checked the new file).",
        ),
    ] = False,
) -> None:
    """Encrypt the embedded SQLite database with the key in ROTA_DB_KEY (SQLCipher).

    Stop every Rota process using the file first. The encrypted copy is written beside it,
    verified (opens with the key, integrity check, same rows in every table), then swapped in;
    on any failure the original is left as it was."""
    done = encrypt_database(keep_plain=not remove_plain)
    typer.echo(f"encrypted {done.path} ({done.tables} tables, {done.rows} rows)")
    open_database().dispose()  # it opens with the key, at the newest schema
    if done.plain_copy is not None:
        typer.echo(
            f"the plain original is kept at {done.plain_copy}: it is unencrypted patient data; "
            "delete it (shred) once Rota works with the encrypted file"
        )
    typer.echo("keep ROTA_DB_KEY safe: without it the database cannot be read")


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Where to write the copy (must not exist yet).")],
) -> None:
    """Copy the embedded database to FILE while Rota keeps running (SQLite's online backup:
    one consistent snapshot). An encrypted database stays encrypted, with the same key.
    PostgreSQL: use pg_dump."""
    _embedded_only()
    db = _db()
    done = backup.backup(db, file, actor=identity.acting(db))
    kind = "encrypted, same key" if done.encrypted else "plain"
    typer.echo(f"backed up to {done.file} ({done.bytes} bytes, {kind}, migration {done.migration})")


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="A backup made by `rota db backup`.")],
) -> None:
    """Replace the embedded database with a backup, after checking it (integrity, a Rota
    database, a migration this program knows; an older one is migrated up). The database as it
    was is kept beside it. On any problem nothing is changed. PostgreSQL: use pg_restore."""
    _embedded_only()
    db = open_database(migrate=False)  # the database in force may be the broken one
    done = backup.restore(db, file, actor=identity.acting(db))
    typer.echo(f"restored {done.database} from {done.file} (migration {done.was_at}", nl=False)
    typer.echo(f", migrated to {done.now_at})" if done.now_at != done.was_at else ")")
    if done.kept is not None:
        typer.echo(f"the database as it was is kept at {done.kept}")


def _embedded_only() -> None:
    """One line for PostgreSQL, before connecting to it."""
    if not database_url().startswith("sqlite"):
        raise InvalidInput(backup.POSTGRES_HINT)


@app.command()
def load(
    file: Annotated[Path, typer.Argument(help="Facility file, JSON or YAML.")],
    replace: Annotated[bool, typer.Option(help="Replace the facility already loaded.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Validate only; write nothing.")] = False,
    actor: Actor = "operator",
) -> None:
    """Validate a facility file and load it in one transaction (nothing is written if it is bad).

    Appointments still to happen are booked through the same checks and rule packs as every
    booking (as ACTOR); attended, no-show and cancelled ones are history, imported as recorded."""
    data = read_file(file)
    db = open_database(create=True)  # with --facility: a new facility of the network, too
    who = actor if check else identity.acting(db, actor)
    counts = load_facility_file(db, data, replace=replace, actor=who, source=str(file), check=check)
    if check:
        typer.echo(f"{file}: valid (" + ", ".join(f"{n} {s}" for s, n in counts.items()) + ")")
        return
    where = f" into facility {db.facility!r}" if db.facility else ""
    typer.echo(f"loaded{where} " + ", ".join(f"{n} {section}" for section, n in counts.items()))


@app.command()
def export(
    out: Annotated[
        Path | None, typer.Option(help="Write here (.json or .yaml); default stdout.")
    ] = None,
) -> None:
    """Write the facility back as a facility file (the `export` permission; the patients in it
    are in the access log)."""
    db = _db()
    text = dump(exchange.export_file(db, _caller(db, OPERATOR), channel="file"), out)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_atomically(out, text)
        typer.echo(f"wrote {out}", err=True)


@app.command()
def demo(
    size: Annotated[str, typer.Option(help=f"One of {', '.join(SIZES)}.")] = "s",
    seed: Annotated[int, typer.Option(help="Same seed and start, same facility.")] = 7,
    start: Annotated[
        str | None, typer.Option(help="Anchor date YYYY-MM-DD (default today).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the file here instead of stdout.")] = None,
    load_it: Annotated[bool, typer.Option("--load", help="Load it into the database.")] = False,
    load_if_empty: Annotated[
        bool, typer.Option("--load-if-empty", help="Load it only when no facility is loaded yet.")
    ] = False,
    replace: Annotated[
        bool, typer.Option(help="With --load: replace the loaded facility.")
    ] = False,
    network_of: Annotated[
        int | None,
        typer.Option(
            "--network",
            min=2,
            max=MOST_SITES,
            help="Load a network of N demo facilities (site-1 … site-N) into the PostgreSQL "
            "database in force, a quarter of clinicians working at two sites.",
        ),
    ] = None,
) -> None:
    """A realistic synthetic facility (sizes s/m/l/xl), deterministic for a seed and start date."""
    anchor = parse_date(start) if start else None
    if network_of is not None:
        root = open_database(facility="")
        if root.dialect != "postgresql":
            raise InvalidInput(SQLITE_REFUSAL)
        who = identity.acting(root)
        root.dispose()
        made = demo_network(network_of, size, seed, anchor)
        for facility, counts in tenancy.load_demo_network(
            database_url(), made, actor=who, as_of=anchor, replace=replace
        ):
            typer.echo(
                f"loaded {facility}: " + ", ".join(f"{n} {what}" for what, n in counts.items())
            )
        typer.echo(
            f"{len(made.people)} clinicians work at two sites; travel between sites "
            f"{min(made.travel.values())}–{max(made.travel.values())} minutes"
        )
        return
    if load_it or load_if_empty:
        db = _db()
        who = identity.acting(db)
        present = records.facility_name(db)
        if present is not None and load_if_empty:
            typer.echo(f"facility {present!r} is already loaded in {db.describe()}")
            return
        data = generate_demo(size, seed, anchor)
        counts = load_facility_file(  # booked like any file: as the operator, through the rules
            db,
            data,
            replace=replace,
            actor=who,
            source=f"demo:{size}:{seed}",
            as_of=anchor,
        )
        typer.echo(
            f"loaded demo facility {data['facility']['name']!r} ({size}) into {db.describe()}: "
            + ", ".join(f"{n} {section}" for section, n in counts.items())
        )
        return
    data = generate_demo(size, seed, anchor)
    text = dump(data, out)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_atomically(out, text)
        typer.echo(f"wrote {out}", err=True)


# --- schedule ----------------------------------------------------------------------------------


@app.command()
def agenda(
    staff: Annotated[str | None, typer.Option(help="A staff member's id.")] = None,
    patient: Annotated[str | None, typer.Option(help="A patient's id.")] = None,
    room: Annotated[str | None, typer.Option(help="A room's id.")] = None,
    day: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD in the facility's zone (default today).")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=31, help="How many days from --day.")] = 1,
    as_json: JsonFlag = False,
) -> None:
    """The schedule of one person or room, or of the whole facility, for a day."""
    db = _db()
    caller = _caller(db, OPERATOR)
    found = records.agenda(
        db,
        caller,
        records.AgendaQuery(
            staff=staff,
            patient=patient,
            room=room,
            day=parse_date(day) if day else None,
            days=days,
        ),
    )
    tz, rows = found.tz, found.appointments
    # What the caller may see of each (the read-only command line sees no patient).
    shown = [access.redact_for(db, caller, a, tz) for a in rows]
    if as_json:
        _print_json(
            {
                "from": local_iso(found.start, tz),
                "to": local_iso(found.end, tz),
                "appointments": shown,
            }
        )
        return
    if found.note:
        typer.echo(found.note)
    names = records.names(db)
    who = staff or patient or room
    title = f"{names.get(who, who)} ({who})" if who else "whole facility"
    typer.echo(
        f"Agenda for {title}, {found.first:%a %d %b %Y}"
        + (f" + {days - 1} days" if days > 1 else "")
        + f" ({tz.key})"
    )
    if not rows:
        typer.echo("  nothing booked")
        return
    for a, record in zip(rows, shown, strict=True):
        typer.echo("  " + _line(a, tz, names, "patients" in record))


def _line(a: AppointmentView, tz: Any, names: dict[str, str], with_patients: bool) -> str:
    start = a.start.astimezone(tz)
    end = a.end.astimezone(tz)
    staff = ", ".join(names.get(s, s) for s in a.staff)
    patients = ", ".join(names.get(p, p) for p in a.patients[:3]) if with_patients else "-"
    if with_patients and len(a.patients) > 3:
        patients += f" +{len(a.patients) - 3}"
    return (
        f"{start:%a %H:%M}–{end:%H:%M}  {a.session_type:<22} {staff:<26} {patients:<30} "
        f"{a.room or '-':<8} {a.status:<14} {a.id}"
    )


def _record(a: AppointmentView, tz: Any) -> dict[str, Any]:
    record = a.as_record()
    record["start"], record["end"] = local_iso(a.start, tz), local_iso(a.end, tz)
    return record


@app.command()
def book(
    patient: Annotated[list[str], typer.Option(help="Patient id (repeat for a group session).")],
    staff: Annotated[list[str], typer.Option(help="Staff id (repeat for co-facilitators).")],
    session_type: Annotated[str, typer.Option("--type", help="Session type id, e.g. individual.")],
    start: Annotated[str, typer.Option(help="ISO start, facility-local unless it has an offset.")],
    room: Annotated[
        str | None, typer.Option(help="Room id (default: the first suitable free room).")
    ] = None,
    minutes: Annotated[
        int | None, typer.Option(help="Length (default: the session type's).")
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="The standing group this session belongs to.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note on the appointment.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (recorded in the audit log).")] = None,
    override_reason: OverrideReason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Book an appointment through the booking service (every check, then the audit log)."""
    db = _db()
    tz = db.facility_tz()
    booked = appointments.book(
        db,
        _caller(db, actor),
        appointments.Book(
            session_type=session_type,
            start=parse_datetime(start, tz),
            staff=tuple(staff),
            patients=tuple(patient),
            room=room,
            minutes=minutes,
            group=group,
            note=note,
            reason=reason,
            override_reason=override_reason,
        ),
    )
    _report(booked, tz, "booked", as_json)


def _report(a: AppointmentView, tz: Any, verb: str, as_json: bool) -> None:
    if as_json:
        _print_json(_record(a, tz))
    else:
        where = f" in {a.room}" if a.room else ""
        typer.echo(
            f"{verb} {a.id}: {a.session_type} {local_iso(a.start, tz)}–"
            f"{a.end.astimezone(tz):%H:%M}{where} with {', '.join(a.staff)} "
            f"for {', '.join(a.patients)} [{a.status}]"
        )


@app.command()
def cancel(
    appointment_id: Annotated[str, typer.Argument(help="The appointment's id.")],
    reason: Annotated[str, typer.Option(help="Why it is cancelled (required).")],
    late: Annotated[bool, typer.Option(help="Record a late cancellation.")] = False,
    override_reason: OverrideReason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Cancel an appointment, with a reason."""
    db = _db()
    result = appointments.cancel(
        db,
        _caller(db, actor),
        appointments.Cancel(appointment_id, reason, late=late, override_reason=override_reason),
    )
    _report(result, db.facility_tz(), "cancelled", as_json)


@app.command()
def move(
    appointment_id: Annotated[str, typer.Argument(help="The appointment's id.")],
    reason: Annotated[str, typer.Option(help="Why it moves (required).")],
    start: Annotated[str | None, typer.Option(help="New ISO start.")] = None,
    staff: Annotated[list[str] | None, typer.Option(help="New staff id(s).")] = None,
    room: Annotated[str | None, typer.Option(help="New room id.")] = None,
    minutes: Annotated[int | None, typer.Option(help="New length.")] = None,
    override_reason: OverrideReason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Move an appointment to another time, clinician or room (every check applies again)."""
    if start is None and not staff and room is None and minutes is None:
        raise InvalidInput("say what changes: --start, --staff, --room or --minutes")
    db = _db()
    tz = db.facility_tz()
    result = appointments.move(
        db,
        _caller(db, actor),
        appointments.Move(
            appointment_id,
            reason,
            start=parse_datetime(start, tz) if start else None,
            staff=tuple(staff or ()),
            room=room,
            minutes=minutes,
            override_reason=override_reason,
        ),
    )
    _report(result, tz, "moved", as_json)


@app.command()
def status(
    appointment_id: Annotated[str, typer.Argument(help="The appointment's id.")],
    new_status: Annotated[
        str,
        typer.Argument(
            metavar="STATUS",
            help="checked_in, attended, no_show, late_cancelled, cancelled, booked",
        ),
    ],
    reason: Annotated[str | None, typer.Option(help="Why (recorded in the audit log).")] = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Record what happened: checked in, attended, no-show, late cancel."""
    db = _db()
    result = appointments.set_status(
        db, _caller(db, actor), appointments.SetStatus(appointment_id, new_status, reason=reason)
    )
    _report(result, db.facility_tz(), "updated", as_json)


# --- audit -------------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(as_json: JsonFlag = False) -> None:
    """Recompute the hash chain; exit 1 and name the first broken event if it was tampered with."""
    db = _db()
    report = records.audit_verify(db, _caller(db, OPERATOR))
    if as_json:
        _print_json(report.__dict__)
    elif report.ok:
        typer.echo(f"audit log intact: {report.events} events, every link verified")
    else:
        typer.echo(f"audit log BROKEN at event {report.broken_at}: {report.problem}", err=True)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("show")
def audit_show(
    entity: Annotated[str | None, typer.Option(help="Only events about this id.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest last.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Print audit events (who, what, when, why, and the rule decision)."""
    db = _db()
    rows = records.audit_events(db, _caller(db, OPERATOR), entity, limit)
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        why = f" — {r['reason']}" if r["reason"] else ""
        typer.echo(
            f"#{r['seq']:<5} {r['at']}  {r['actor']:<16} {r['action']:<22} {r['entity'] or ''}{why}"
        )


PatientOption = Annotated[str, typer.Option("--patient", help="The patient's id (e.g. p0042).")]


@audit_app.command("access")
def audit_access(
    patient: PatientOption,
    start: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD), inclusive.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day (YYYY-MM-DD), inclusive.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Who saw a patient's information: every read, refusal and emergency access, newest last."""
    db = _db()
    query = records.AccessQuery(
        patient,
        parse_date(start) if start else None,
        parse_date(end) if end else None,
    )
    rows = records.access_events(db, _caller(db, OPERATOR), query)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        typer.echo(f"no recorded access to {patient}'s information")
    for r in rows:
        why = f" — {r['reason']}" if r["reason"] else ""
        typer.echo(
            f"{r['at']}  {r['actor']:<14} {r['role']:<16} {r['door']:<6} "
            f"{r['action']:<16} {r['outcome']}{why}"
        )


@audit_app.command("disclosures")
def audit_disclosures(patient: PatientOption, as_json: JsonFlag = False) -> None:
    """Disclosures of a patient's information outside the facility (42 CFR Part 2 accounting)."""
    db = _db()
    rows = records.disclosures(db, _caller(db, OPERATOR), patient)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        typer.echo(f"no disclosure of {patient}'s information outside the facility")
    for r in rows:
        to = f"{r['recipient']} ({r['recipient_name']})" if r["recipient_name"] else r["recipient"]
        why = f" — {r['purpose']}" if r["purpose"] else ""
        typer.echo(f"{r['at']}  to {to:<28} by {r['channel']:<14} {r['decision']}{why}")


# --- HTTP --------------------------------------------------------------------------------------


ScopeOpt = Annotated[
    str,
    typer.Option(
        help="read (look only), booking (read, book, cancel, move, check in, attendance, chat) "
        "or admin (everything the person's roles allow)."
    ),
]
DaysOpt = Annotated[
    int | None,
    typer.Option(help=f"Days until it expires (default ROTA_TOKEN_DAYS, else {DEFAULT_DAYS})."),
]


@token_app.command("create")
def token_create(
    staff: Annotated[str, typer.Option(help="The staff member the token speaks for.")],
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    link: Annotated[
        bool,
        typer.Option(
            "--link",
            help="Instead, a one-time web sign-in link (works once, for 15 minutes; relative to "
            "http://127.0.0.1:8000 unless ROTA_BASE_URL is set).",
        ),
    ] = False,
    scope: ScopeOpt = DEFAULT_SCOPE,
    days: DaysOpt = None,
    actor: Actor = OPERATOR,
) -> None:
    """Create a bearer token (or, with --link, a one-time sign-in link); it is printed once,
    last on the line, and stored only hashed. It expires after --days."""
    db = _db()
    who = identity.acting(db, actor)
    if link:
        url = _sign_in_url(os.environ.get(feeds.BASE_URL_ENV) or DEFAULT_BASE, staff, who)
        typer.echo(f"sign-in link for {staff} (works once, for 15 minutes): {url}")
        return
    token = people.create_token(db, staff, label=label, actor=who, scope=scope, days=days)
    typer.echo(f"token for {staff} ({scope}, shown once, keep it secret): {token}")


def _sign_in_url(base: str, staff: str, actor: str) -> str:
    # The secret goes after '#': browsers never send it to a server (integrations/web/signin.py).
    secret = web_sign_in.create_link(_db(), staff, actor=actor)
    return f"{base.rstrip('/')}/signin/link#{secret}"


@token_app.command("revoke")
def token_revoke(
    staff: Annotated[str, typer.Option(help="Revoke every live token of this staff member.")],
    actor: Actor = OPERATOR,
) -> None:
    """Revoke a staff member's tokens (effective immediately)."""
    db = _db()
    count = people.revoke_tokens(db, staff, actor=identity.acting(db, actor))
    typer.echo(f"revoked {count} token(s) of {staff}")


@token_app.command("rotate")
def token_rotate(
    staff: Annotated[
        str | None, typer.Option(help="Replace every live token of this staff member.")
    ] = None,
    token_id: Annotated[
        int | None, typer.Option("--token-id", help="Replace this token only (`rota token list`).")
    ] = None,
    scope: Annotated[
        str | None,
        typer.Option(help="The new token's scope (default: the old token's, else booking)."),
    ] = None,
    days: DaysOpt = None,
    actor: Actor = OPERATOR,
) -> None:
    """Issue a new token and revoke the old one(s) at once; the new one is printed once."""
    db = _db()
    rotated = people.rotate_token(
        db,
        staff_id=staff,
        token_id=token_id,
        actor=identity.acting(db, actor),
        scope=scope,
        days=days,
    )
    typer.echo(
        f"revoked {len(rotated.revoked)} token(s) of {rotated.staff_id}; "
        f"new token (shown once, keep it secret): {rotated.token}"
    )


@token_app.command("list")
def token_list(
    staff: Annotated[str | None, typer.Option(help="Only this staff member's tokens.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every token: id, label, scope, created, expires, last used, revoked (never the token)."""
    db = _db()
    identity.acting(db)
    rows = people.list_tokens(db, staff)
    if as_json:
        _print_json([vars(r) for r in rows])
        return
    typer.echo(
        f"{'id':>5}  {'staff':<8} {'scope':<8} {'created':<17} {'expires':<17} "
        f"{'last used':<17} {'revoked':<17} label"
    )
    for r in rows:
        typer.echo(
            f"{r.id:>5}  {r.staff_id:<8} {r.scope:<8} {_when(r.created_at)} {_when(r.expires_at)} "
            f"{_when(r.last_used_at)} {_when(r.revoked_at)} {r.label or ''}"
        )


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}".ljust(17) if moment else "-".ljust(17)


@token_app.command("failures")
def token_failures(
    client: Annotated[str | None, typer.Option(help="Only this client address.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
) -> None:
    """The latest failed sign-ins (client, door, reason, prefix digest; never the token)."""
    db = _db()
    identity.acting(db)
    for f in people.auth_failures(db, client=client, limit=limit):
        typer.echo(f"{_when(f.at)} {f.client:<20} {f.door:<5} {f.reason:<9} {f.prefix_digest}")


@app.command()
def login(
    token: Annotated[
        str | None, typer.Option(help="The token (default: asked for, not echoed).")
    ] = None,
) -> None:
    """Act as the staff member a token speaks for, from this account, until it expires."""
    secret = token if token is not None else typer.prompt("Rota token", hide_input=True)
    who = identity.login(_db(), secret)
    typer.echo(
        f"logged in as {who.name} ({who.staff_id}, {who.scope} scope); "
        f"`rota logout` forgets it ({identity.login_file()})"
    )


@app.command()
def logout() -> None:
    """Forget `rota login`: the command line is read-only again (unless ROTA_OPERATOR is set)."""
    typer.echo("logged out" if identity.logout() else "was not logged in")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    token_for_role: Annotated[
        str | None,
        typer.Option(help="Print a fresh token for the first staff member with this role."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Worker processes.")] = 1,
    certfile: Annotated[
        Path | None,
        typer.Option(help="Serve HTTPS with this certificate (PEM, its chain after it)."),
    ] = None,
    keyfile: Annotated[
        Path | None,
        typer.Option(
            help="The certificate's private key (PEM; ROTA_TLS_KEY_PASSWORD if encrypted)."
        ),
    ] = None,
) -> None:
    """Run the HTTP API (chat, REST, OpenAPI at /schema/swagger, /health, /ready, /metrics;
    ROTA_LOG_FORMAT=json for one JSON log line per request), and the
    embedded job scheduler (see `rota jobs list`) unless ROTA_SCHEDULER=off. With --certfile
    it speaks HTTPS only, and every response carries Strict-Transport-Security."""
    from integrations.http.hardening import Hardening

    tls = check_tls(certfile, keyfile)  # before anything binds or starts: one clear line
    Hardening.from_env()  # ROTA_MAX_BODY_BYTES, ROTA_CORS_ORIGINS: refused here, not per worker
    log_format()  # ROTA_LOG_FORMAT, likewise
    db = _db()
    base = f"{'https' if tls else 'http'}://{host}:{port}"
    who = identity.acting(db) if token_for_role else OPERATOR
    typer.echo(f"Rota listening on {base}  (API docs: {base}/schema/swagger)")
    if token_for_role:
        member, token = people.token_for_role(db, token_for_role, label="rota serve", actor=who)
        typer.echo(f"token for {member.name} ({member.staff_id}, {token_for_role}): {token}")
        typer.echo(
            f"try: curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' "
            f'-d \'{{"message": "help"}}\' {base}/api/chat'
        )
        url = _sign_in_url(base, member.staff_id, who)
        typer.echo(f"open the board in a browser (link works once, for 15 minutes): {url}")
    scheduler = _start_scheduler(db)
    try:
        _serve(db, host, port, workers, tls)
    finally:
        if scheduler is not None:
            scheduler.stop()


def _start_scheduler(db: Database) -> Any:
    """The embedded job scheduler, unless ROTA_SCHEDULER=off or ROTA_JOBS=procrastinate (then
    `rota worker` processes run the jobs and this server stays stateless)."""
    from integrations.jobs import serve_schedules
    from integrations.jobs.scheduler import Scheduler

    if not serve_schedules():
        typer.echo("jobs: not scheduled here (ROTA_SCHEDULER=off or ROTA_JOBS=procrastinate)")
        return None
    from integrations import notify

    channels = notify.configure()  # the outbox job sends through these (SMTP, Twilio, FHIR)
    scheduler = Scheduler(db)
    scheduler.start()
    typer.echo("jobs: the embedded scheduler runs due jobs (ROTA_SCHEDULER=off stops it)")
    typer.echo(
        f"outbox channels: {', '.join(channels) or 'none (set ROTA_SMTP_URL, TWILIO_*, ROTA_FHIR_BASE_URL)'}"
    )
    return scheduler


def _serve(db: Database, host: str, port: int, workers: int, tls: Tls | None) -> None:
    import uvicorn

    from integrations.http.app import create_app

    options = uvicorn_options(tls)
    if workers == 1:
        uvicorn.run(create_app(db, settle=True), host=host, port=port, **options)
        return
    # Several processes: each builds its own app from ROTA_DATABASE_URL.
    os.environ.setdefault("ROTA_DATABASE_URL", db.url)
    uvicorn.run(
        "integrations.http.app:create_serving_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        **options,
    )


@app.command()
def chat(
    as_staff: Annotated[
        str | None,
        typer.Option(
            "--as", help="Staff id to speak as (default: the first who may approve changes)."
        ),
    ] = None,
    now: Annotated[
        str | None, typer.Option(help="Pretend it is this ISO time (for rehearsals).")
    ] = None,
) -> None:
    """A terminal chat over the same use cases as Slack and the web ('quit' to leave)."""
    from assistant.dialogue import Dialogue
    from clinic.timeutil import now_utc

    db = _db()
    identity.acting(db)  # whoever may speak as anyone is an operator
    if as_staff:
        caller = callers.for_staff(db, as_staff)
    else:
        approvers = callers.approvers(db)
        if not approvers:
            raise InvalidInput("no facility is loaded: run `rota demo --load`")
        caller = approvers[0]
    fixed = parse_datetime(now, db.facility_tz()) if now else None
    dialogue = Dialogue(db, clock=(lambda: fixed) if fixed else now_utc)
    conversation: str | None = None
    typer.echo(
        f"Rota — speaking as {caller.name} ({caller.role}). Type 'help', or 'quit' to leave."
    )
    for line in sys.stdin:
        message = line.strip()
        if message.lower() in {"quit", "exit", "bye"}:
            break
        if not message:
            continue
        try:
            reply = dialogue.handle(caller, message, conversation)
        except RotaError as exc:
            typer.echo(f"rota: {exc}")
            continue
        conversation = reply.conversation_id
        typer.echo(reply.reply)


# --- commands that live in their own modules ---------------------------------------------------

from integrations.cli import solver_cmds  # noqa: E402

solver_cmds.register(app)
from integrations.cli import slack_cmds  # noqa: E402

slack_cmds.register(app)

from integrations.cli import rules_cmds  # noqa: E402

rules_cmds.register(app)
from integrations.cli import attendance_cmds  # noqa: E402

attendance_cmds.register(app)

from integrations.cli import patients_cmds  # noqa: E402

patients_cmds.register(app)  # rota patient ...
from integrations.cli import facility_cmds  # noqa: E402

facility_cmds.register(app)  # rota staff|group|room
from integrations.cli import jobs_cmds  # noqa: E402

jobs_cmds.register(app)  # rota jobs ..., rota worker
from integrations.cli import morning_cmds  # noqa: E402

morning_cmds.register(app)  # rota morning

from integrations.cli import outbox_cmds  # noqa: E402

outbox_cmds.register(app)  # rota outbox list|retry|send|replies
from integrations.cli import series_cmds  # noqa: E402

series_cmds.register(app)  # rota series book|show|cancel|move
series_cmds.register_holidays(app)  # rota holiday add|list

from integrations.cli import waitlist_cmds  # noqa: E402

waitlist_cmds.register(app)  # rota waitlist add|list|withdraw|offers|accept

from integrations.cli import capacity_cmds  # noqa: E402

capacity_cmds.register(app)  # rota capacity

from integrations.cli import risk_cmds  # noqa: E402

risk_cmds.register(app)  # rota risk train|show

from integrations.cli import fhir_cmds  # noqa: E402

fhir_cmds.register(app)  # rota fhir export|import

from integrations.cli import fhir_push_cmds  # noqa: E402, F401, I001  (adds rota fhir push)

from integrations.cli import ical_cmds  # noqa: E402

ical_cmds.register(app)  # rota ical url|revoke|list|initials

from integrations.cli import import_cmds  # noqa: E402

import_cmds.register(app)  # rota import csv

from integrations.cli import retention_cmds  # noqa: E402

retention_cmds.register(app)  # rota purge [--dry-run]

from integrations.cli import network_cmds  # noqa: E402

network_cmds.register(app)  # rota network list|link|travel|grant


# --- entry point -------------------------------------------------------------------------------


FACILITY_OPTION = "--facility"


def facility_option(argv: list[str]) -> tuple[list[str], str | None]:
    """`--facility ID` (or `--facility=ID`) anywhere on the line: every command opens that
    facility of the network (as ROTA_FACILITY does); the rest of the line is the command's."""
    rest: list[str] = []
    chosen: str | None = None
    args = iter(argv)
    for arg in args:
        if arg == FACILITY_OPTION:
            chosen = next(args, "")
        elif arg.startswith(FACILITY_OPTION + "="):
            chosen = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return rest, chosen


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error becomes one line on stderr."""
    protect_logs()  # whatever the root level, no library logs patient information
    args, facility = facility_option(list(sys.argv[1:] if argv is None else argv))
    before = os.environ.get(FACILITY_ENV)
    try:
        if facility is not None:
            # The environment, so every command's database and `rota serve`'s workers see it.
            os.environ[FACILITY_ENV] = check_facility_id(facility.strip())
        app(args=args, prog_name="rota", standalone_mode=True)
        return 0
    except SystemExit as exc:  # usage errors (exit 2) and typer.Exit arrive here, already reported
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        typer.echo("rota: interrupted", err=True)
        return 130
    except PermissionDenied as exc:
        if identity.operator(_db()) is None:  # read-only: say how to act, in one line
            typer.echo(f"rota: {identity.HINT}", err=True)
            return exc.exit_code
        typer.echo(f"rota: {exc}", err=True)
        return exc.exit_code
    except RotaError as exc:
        typer.echo(f"rota: {exc}", err=True)
        for problem in getattr(exc, "problems", []):
            typer.echo(f"  - {problem}", err=True)
        return exc.exit_code
    except Exception as exc:  # the last line of defence: never a stack trace for a user
        if os.environ.get("ROTA_DEBUG"):
            traceback.print_exc()
        typer.echo(
            f"rota: internal error ({exc.__class__.__name__}); set ROTA_DEBUG=1 for details",
            err=True,
        )
        return 1
    finally:
        if facility is not None:  # in-process callers (tests) get their environment back
            if before is None:
                os.environ.pop(FACILITY_ENV, None)
            else:
                os.environ[FACILITY_ENV] = before


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
