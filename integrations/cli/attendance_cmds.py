"""`rota attendance …`: what is still unmarked, marking one session, and a delay's knock-on."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from assistant.access import may, redact_for
from assistant.usecases import AppointmentView, attendance, knock_on, records
from clinic.db import Database, open_database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc, parse_date, parse_datetime
from integrations.cli import identity

T = TypeVar("T")
ACTOR_HELP = "Who is asking (a staff id or a name); recorded in the audit log."


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Attendance: the unmarked list, marking a session, a late patient's knock-on.",
        add_completion=False,
    )
    app.add_typer(group, name="attendance")

    @group.command("unmarked")
    def unmarked(
        staff: Annotated[str | None, typer.Option(help="One staff member's sessions.")] = None,
        day: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today).")] = None,
        now: Annotated[
            str | None, typer.Option(help="As if it were this ISO time (default: now).")
        ] = None,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Sessions that have started and have no outcome yet (a clinician: their own)."""
        db = open_database()
        caller = identity.caller(db, actor)
        tz = db.facility_tz()
        moment = _option(lambda: parse_datetime(now, tz), "--now") if now else now_utc()
        on = _option(lambda: parse_date(day), "--day") if day else moment.astimezone(tz).date()
        rows = attendance.unmarked(db, caller, attendance.Unmarked(on, moment, staff=staff))
        if as_json:
            records_ = [redact_for(db, caller, r, tz) for r in rows]
            typer.echo(json.dumps({"day": on.isoformat(), "appointments": records_}, indent=2))
            return
        typer.echo(f"Unmarked on {on:%a %d %b %Y}: {len(rows)}")
        for row in rows:
            typer.echo("  " + _line(db, caller, row))

    @group.command("mark")
    def mark(
        appointment_id: Annotated[str, typer.Argument(help="The appointment's id.")],
        action: Annotated[str, typer.Argument(help="check_in, attended, no_show or late_cancel.")],
        reason: Annotated[str | None, typer.Option(help="Why (kept in the audit log).")] = None,
        patient: Annotated[
            str | None,
            typer.Option(help="Whose outcome (a patient id; required for a group session)."),
        ] = None,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Record what happened to one session, or to one member of a group session."""
        db = open_database()
        caller = identity.caller(db, actor)
        after = attendance.mark(
            db, caller, attendance.Mark(appointment_id, action, reason, patient=patient)
        )
        if as_json:
            typer.echo(json.dumps(redact_for(db, caller, after, db.facility_tz()), indent=2))
            return
        status = after.status if patient is None else f"{patient} {after.outcome_of(patient)}"
        typer.echo(f"{after.id}: {status}  " + _line(db, caller, after))

    @group.command("delay")
    def delay(
        appointment_id: Annotated[str, typer.Argument(help="The appointment's id.")],
        minutes: Annotated[int, typer.Option(help="How late, or how far over.")],
        over: Annotated[
            bool, typer.Option("--over", help="The session runs over (default: patient late).")
        ] = False,
        apply: Annotated[
            str | None, typer.Option(help="Apply this way: shorten or push (default: only show).")
        ] = None,
        propose: Annotated[
            bool,
            typer.Option(
                "--propose",
                help="Store the push as a proposal for the front desk or a director to apply.",
            ),
        ] = False,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
    ) -> None:
        """The knock-on of a late patient or an overrunning session, and the ways to absorb it."""
        db = open_database()
        caller = identity.caller(db, actor)
        cmd = knock_on.Delay(appointment_id, minutes, "over" if over else "late")
        if propose:
            if apply is not None:
                raise InvalidInput("--propose stores the push for approval; leave out --apply")
            stored = knock_on.propose_push(db, caller, knock_on.ProposePush(cmd))
            typer.echo(
                f"proposal {stored['id']} ({stored['kind']}): {len(stored['moves'])} session(s) "
                f"to move; the front desk or a director applies it ('apply {stored['id']}' in "
                f"chat, or POST /api/proposals/{stored['id']}/apply)"
            )
            return
        if apply is not None:
            moved = knock_on.absorb(db, caller, knock_on.Absorb(cmd, apply))  # type: ignore[arg-type]
            typer.echo(f"applied {apply}:")
            for row in moved:
                typer.echo("  " + _line(db, caller, row))
            return
        result = knock_on.knock_on(db, caller, cmd)
        tz = db.facility_tz()
        typer.echo(
            f"{result.appointment.id} runs {result.start.astimezone(tz):%H:%M}–"
            f"{result.end.astimezone(tz):%H:%M} at full length"
        )
        for e in result.effects:
            typer.echo(
                f"  affects {_line(db, caller, e.appointment)} "
                f"(shares {', '.join(e.shares)}; gap {e.gap_before} -> {e.gap_after} min)"
            )
        for way in result.ways:
            fits = "" if way.fits else f"  [does not fit: {way.problem}]"
            if way.not_yours:
                fits += f"  [not yours to apply: {way.not_yours}]"
            moves = ", ".join(f"{i} to {s.astimezone(tz):%H:%M}" for i, s, _ in way.moves[1:])
            typer.echo(f"  way {way.key}: {moves or 'nothing else moves'}{fits}")


def _option(parse: Callable[[], T], name: str) -> T:
    """A value parsed from an option; a bad one is named in the error."""
    try:
        return parse()
    except InvalidInput as exc:
        raise InvalidInput(f"{name}: {exc}") from exc


def _line(db: Database, caller: Any, a: AppointmentView) -> str:
    """One session as the caller may see it (its kind only with clinical detail)."""
    tz = db.facility_tz()
    names = records.names(db)
    kind = f"{a.session_type:<20} " if may(caller, "see_clinical_detail") else ""
    staff = ", ".join(names.get(s, s) for s in a.staff)
    patients = ", ".join(names.get(p, p) for p in a.patients[:3])
    if len(a.patients) > 3:
        patients += f" +{len(a.patients) - 3}"
    start, end = a.start.astimezone(tz), a.end.astimezone(tz)
    return f"{start:%H:%M}–{end:%H:%M}  {kind}{staff:<24} {patients:<30} {a.status:<11} {a.id}"
