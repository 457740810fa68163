"""`rota outbox …`: what Rota owes people (SMS and email to patients, Slack messages to staff:
queued, sent, dead), a dead message retried, the queue sent now, and patients' replies."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from assistant.jobs import fhir_push as fhir_push_job
from assistant.jobs import outbox as drain_job
from assistant.usecases import outbox
from clinic.db import open_database
from clinic.timeutil import now_utc
from integrations import notify
from integrations.cli import identity

ACTOR_HELP = "Who is asking (a staff id or a name); recorded in the audit log."


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The outbox: messages to patients (SMS, email) and staff (Slack), retries, replies.",
        add_completion=False,
    )
    app.add_typer(group, name="outbox")

    @group.command("list")
    def list_(
        dead: Annotated[bool, typer.Option("--dead", help="Only dead messages.")] = False,
        limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Messages, newest first (recipients masked; the words are never kept)."""
        db = open_database()
        rows = outbox.list_messages(
            db, identity.caller(db, actor), outbox.ListMessages(dead=dead, limit=limit)
        )
        if as_json:
            typer.echo(json.dumps([outbox.as_record(r) for r in rows], indent=2))
            return
        typer.echo(f"{'Dead' if dead else 'All'} messages: {len(rows)}")
        for r in rows:
            error = f"  ({r.last_error})" if r.last_error else ""
            typer.echo(
                f"  #{r.id} {r.status:<8} {r.channel:<5} {r.template:<9} {r.patient or '-'} "
                f"{r.recipient} tries={r.attempts} {','.join(r.appointments)}{error}"
            )

    @group.command("retry")
    def retry(
        message_id: Annotated[int, typer.Argument(help="The dead message's id (outbox list).")],
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
    ) -> None:
        """Put a dead message back in the queue, due now (a Slack message goes with the Slack
        door's next sweep)."""
        db = open_database()
        row = outbox.retry(db, identity.caller(db, actor), outbox.Retry(message_id))
        typer.echo(f"Message #{row.id} is queued again ({row.channel} to {row.recipient}).")

    @group.command("send")
    def send() -> None:
        """Send what is due now through the configured channels (ROTA_SMTP_URL, TWILIO_*; Slack
        messages are sent by the Slack door: `rota serve`, `rota slack resend`)."""
        channels = notify.configure()
        if not channels:
            typer.echo(
                "No channel is configured: set ROTA_SMTP_URL, TWILIO_ACCOUNT_SID or "
                "ROTA_FHIR_BASE_URL.",
                err=True,
            )
            raise typer.Exit(1)
        db, now = open_database(), now_utc()
        identity.acting(db)
        counts = drain_job.run(db, now)
        if "fhir" in channels:  # appointments written back to the EHR (ROTA_FHIR_BASE_URL)
            counts = {**counts, "fhir": fhir_push_job.run(db, now)}
        typer.echo(json.dumps({"channels": channels, **counts}))

    @group.command("replies")
    def replies(
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Patients' answers to reminders: C confirms, R asks for a call back."""
        db = open_database()
        rows = outbox.replies(db, identity.caller(db, actor))
        if as_json:
            typer.echo(json.dumps([outbox.as_record(r) for r in rows], indent=2))
            return
        typer.echo(f"Replies: {len(rows)}")
        for r in rows:
            typer.echo(
                f"  {r.received_at:%Y-%m-%d %H:%M} {r.patient or 'unknown number'} {r.answer} {','.join(r.appointments)}"
            )
