"""`rota capacity`: the assessment slots held for emergency admissions in a week."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from assistant.usecases import capacity, records
from clinic.db import open_database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc, parse_datetime
from integrations.cli import identity

ACTOR_HELP = "Who is asking (a staff id or a name); recorded in the audit log."


def register(app: typer.Typer) -> None:
    @app.command("capacity")
    def capacity_cmd(
        week: Annotated[
            str | None, typer.Option(help="2026-W49 or any date in the week (default: this week).")
        ] = None,
        now: Annotated[
            str | None, typer.Option(help="As if it were this ISO time (default: now).")
        ] = None,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """The slots held back for emergency admissions (OPS-EMERGENCY-HOLD), day by day, and
        the arrivals of the weeks before that they were estimated from."""
        db = open_database()
        caller = identity.caller(db, actor)
        tz = db.facility_tz()
        try:
            moment = parse_datetime(now, tz) if now else now_utc()
        except InvalidInput as exc:
            raise InvalidInput(f"--now: {exc}") from exc
        day = capacity.parse_week(week, moment.astimezone(tz).date())
        data = capacity.week(db, caller, capacity.Week(day, moment))
        if as_json:
            typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
            return
        typer.echo(capacity.text(data, records.names(db)))
