"""`rota morning`: the morning exception report, printed and never delivered."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from assistant.morning_report import text
from assistant.usecases import morning
from clinic.db import open_database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc, parse_datetime
from integrations.cli import identity

ACTOR_HELP = "Who is asking (a staff id or a name); recorded in the audit log."


def register(app: typer.Typer) -> None:
    @app.command("morning")
    def morning_cmd(
        now: Annotated[
            str | None, typer.Option(help="As if it were this ISO time (default: now).")
        ] = None,
        plan: Annotated[
            bool, typer.Option("--plan/--no-plan", help="Place the open demand (bounded).")
        ] = True,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """The morning exception report for the day of --now: each section's count and rows."""
        db = open_database()
        caller = identity.caller(db, actor)
        try:
            moment = parse_datetime(now, db.facility_tz()) if now else now_utc()
        except InvalidInput as exc:
            raise InvalidInput(f"--now: {exc}") from exc
        data = morning.report(db, caller, morning.MorningReport(moment, plan=plan))
        if as_json:
            typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
            return
        typer.echo(text(data, data["names"]))
