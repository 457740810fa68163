"""`rota series book|show|cancel|move`: weekly series at the terminal (assistant.usecases.series);
`rota holiday add|list`: days the whole facility is closed (assistant.usecases.closures).

A series refused because some week does not fit prints every failing week on stderr and exits
5 (a booking conflict); nothing was booked or changed then."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from assistant.access import redact_for
from assistant.usecases import closures, series
from clinic.db import Database, open_database
from clinic.errors import BookingConflict
from clinic.timeutil import parse_date
from integrations.cli import identity

ACTOR_HELP = "Who is asking (a staff id or a name); recorded in the audit log."
Actor = Annotated[str, typer.Option(help=ACTOR_HELP)]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Scope = Annotated[str, typer.Option(help="this | following | all")]
From = Annotated[
    int | None,
    typer.Option("--from", help="The occurrence (1-based) 'this' and 'following' start at."),
]


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Recurring weekly series: book, show, move, cancel.", add_completion=False
    )
    app.add_typer(group, name="series")

    @group.command("book")
    def book(
        patient: Annotated[str, typer.Argument(help="The patient's id.")],
        staff: Annotated[str, typer.Option(help="The clinician's staff id.")],
        weekday: Annotated[str, typer.Option(help="mon … sun (or the day's name).")],
        time: Annotated[str, typer.Option(help="Facility-local HH:MM.")],
        session_type: Annotated[str, typer.Option("--type", help="Session type.")] = "individual",
        count: Annotated[int | None, typer.Option(help="How many weeks (1–52).")] = None,
        until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD.")] = None,
        first_day: Annotated[
            str | None, typer.Option("--first-day", help="Start on or after this day.")
        ] = None,
        room: Annotated[
            str | None, typer.Option(help="A room id (default: any that fits).")
        ] = None,
        minutes: Annotated[int | None, typer.Option(help="Length (default: the type's).")] = None,
        skip_failing: Annotated[
            bool, typer.Option("--skip-failing", help="Book the weeks that fit; list the rest.")
        ] = False,
        reason: Annotated[str | None, typer.Option(help="Why (kept in the audit log).")] = None,
        actor: Actor = "operator",
        as_json: JsonFlag = False,
    ) -> None:
        """Book a weekly series: every week through the same checks as one booking, all or
        nothing (or --skip-failing)."""
        db = open_database()
        outcome = series.book_series(
            db,
            identity.caller(db, actor),
            series.BookSeries(
                patient=patient,
                staff=staff,
                session_type=session_type,
                weekday=weekday,
                time=time,
                count=count,
                until=parse_date(until) if until else None,
                first_day=parse_date(first_day) if first_day else None,
                room=room,
                minutes=minutes,
                skip_failing=skip_failing,
                reason=reason,
            ),
        )
        _report(db, actor, outcome, "booked", as_json)

    @group.command("show")
    def show(
        series_id: Annotated[str, typer.Argument(help="The series' id.")],
        actor: Actor = "operator",
        as_json: JsonFlag = False,
    ) -> None:
        """The series' pattern and each occurrence."""
        db = open_database()
        record = series.show_series(db, identity.caller(db, actor), series_id)
        if as_json:
            typer.echo(json.dumps(record, indent=2))
            return
        typer.echo(
            f"{record['id']}: {record['patient']} with {record['staff']}, every "
            f"{record['weekday']} at {record['time']} ({record['status']})"
        )
        for occ in record["occurrences"]:
            typer.echo(f"  {occ['occurrence']:>2}  {occ['start']}  {occ['status']}")

    @group.command("cancel")
    def cancel(
        series_id: Annotated[str, typer.Argument(help="The series' id.")],
        reason: Annotated[str, typer.Option(help="Why (required; kept in the audit log).")],
        scope: Scope = "all",
        occurrence: From = None,
        actor: Actor = "operator",
        as_json: JsonFlag = False,
    ) -> None:
        """Cancel this occurrence, this and the following ones, or all still to come."""
        db = open_database()
        outcome = series.cancel_series(
            db,
            identity.caller(db, actor),
            series.CancelSeries(series_id, scope, reason, occurrence=occurrence),  # type: ignore[arg-type]
        )
        _report(db, actor, outcome, "cancelled", as_json)

    @group.command("move")
    def move(
        series_id: Annotated[str, typer.Argument(help="The series' id.")],
        reason: Annotated[str, typer.Option(help="Why (required; kept in the audit log).")],
        scope: Scope = "following",
        occurrence: From = None,
        time: Annotated[str | None, typer.Option(help="New time, HH:MM.")] = None,
        weekday: Annotated[str | None, typer.Option(help="New weekday.")] = None,
        staff: Annotated[str | None, typer.Option(help="New clinician's staff id.")] = None,
        actor: Actor = "operator",
        as_json: JsonFlag = False,
    ) -> None:
        """Move this occurrence, this and the following ones, or all (all or nothing)."""
        db = open_database()
        outcome = series.change_series(
            db,
            identity.caller(db, actor),
            series.ChangeSeries(
                series_id,
                scope,  # type: ignore[arg-type]
                reason,
                occurrence=occurrence,
                time=time,
                weekday=weekday,
                staff=staff,
            ),
        )
        _report(db, actor, outcome, "moved", as_json)


def register_holidays(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Holidays: days the whole facility is closed (nothing is booked then).",
        add_completion=False,
    )
    app.add_typer(group, name="holiday")

    @group.command("add")
    def add(
        first_day: Annotated[str, typer.Argument(help="First closed day, YYYY-MM-DD.")],
        reason: Annotated[str, typer.Option(help="What it is, e.g. 'Christmas Day'.")],
        last_day: Annotated[
            str | None, typer.Option("--to", help="Last closed day (default: the same day).")
        ] = None,
        actor: Actor = "operator",
        as_json: JsonFlag = False,
    ) -> None:
        """Close the whole facility from the start of the first day to the end of the last."""
        db = open_database()
        first = parse_date(first_day)
        record = closures.close_facility(
            db,
            identity.caller(db, actor),
            closures.CloseFacility(first, parse_date(last_day) if last_day else first, reason),
        )
        if as_json:
            typer.echo(json.dumps(record, indent=2))
            return
        typer.echo(f"closed {record['start']} to {record['end']}: {record['reason']}")

    @group.command("list")
    def list_(actor: Actor = "operator", as_json: JsonFlag = False) -> None:
        """Closures still to come or under way."""
        db = open_database()
        rows = closures.closures(db, identity.caller(db, actor))
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        for row in rows:
            typer.echo(f"{row['start']} to {row['end']}: {row['reason']}")


def _report(
    db: Database, actor: str, outcome: series.SeriesOutcome, what: str, as_json: bool
) -> None:
    if outcome.refused:
        raise BookingConflict(
            f"{len(outcome.failed)} of {len(outcome.days)} week(s) cannot be {what}; nothing "
            "was changed:\n" + "\n".join(f"  - {f.words()}" for f in outcome.failed)
        )
    if as_json:
        caller, tz = identity.caller(db, actor), db.facility_tz()
        record: dict[str, Any] = outcome.as_record()
        record["appointments"] = [redact_for(db, caller, a, tz) for a in outcome.done]
        typer.echo(json.dumps(record, indent=2))
        return
    sid = (outcome.series or {}).get("id", "")
    typer.echo(f"{sid}: {len(outcome.done)} session(s) {what}")
    for f in outcome.failed:
        typer.echo(f"  skipped {f.words()}")
