"""`rota purge [--dry-run]`: delete what the retention policy no longer keeps, now (the
`retention` job does the same daily); counts per table. Never the audit or access log."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from assistant import retention
from clinic.db import open_database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc, parse_datetime
from integrations.cli import identity


def register(app: typer.Typer) -> None:
    @app.command("purge")
    def purge(
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Count what would go; change nothing.")
        ] = False,
        days: Annotated[
            int | None,
            typer.Option(
                min=1, help="Retention period in days (default ROTA_RETENTION_DAYS or 30)."
            ),
        ] = None,
        now: Annotated[
            str | None, typer.Option(help="As if it were this ISO time (tests, rehearsals).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Delete conversation state, settled outbox messages, answered Slack requests,
        patients' replies, ended waitlist offers and failed sign-ins older than the retention
        period, and ended web sessions and spent sign-in links; clear settled proposals'
        payloads and old job runs' error text (the rows stay). The audit log and the access
        log are never purged. --dry-run counts each kind."""
        db = open_database()
        try:
            moment = parse_datetime(now, db.facility_tz()) if now else now_utc()
        except InvalidInput as exc:
            raise InvalidInput(f"--now: {exc}") from exc
        # Deleting needs a configured operator (the audit event names them); counting does not.
        actor = retention.ACTOR if dry_run else identity.acting(db)
        report = retention.purge(db, moment, days=days, dry_run=dry_run, actor=actor)
        if as_json:
            typer.echo(json.dumps(report.as_record(), indent=2))
            return
        deleted, cleared = ("would delete", "would clear") if dry_run else ("deleted", "cleared")
        typer.echo(
            f"retention {report.days} days (before {report.cutoff:%Y-%m-%d %H:%M} UTC): "
            f"{deleted} {report.deleted} row(s), {cleared} {report.cleared} (row kept)"
        )
        for kind, n in report.counts.items():
            typer.echo(f"  {kind:<20} {n}{'  (cleared)' if kind in retention.CLEARED else ''}")
