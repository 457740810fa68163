"""`rota fhir push`: write appointments back to the EHR now (the `fhir_push` job does it every
minute when the server runs jobs); `rota fhir overwrite`: after a conflict, Rota's version wins."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from assistant import fhir_writeback
from clinic.db import open_database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc, parse_date
from integrations.cli import identity
from integrations.cli.fhir_cmds import OPERATOR, Actor, fhir_app
from integrations.fhir import writeback


@fhir_app.command("push")
def fhir_push(
    start: Annotated[
        str | None,
        typer.Option("--from", help="Also send every appointment from this day, YYYY-MM-DD."),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="… to this day (inclusive), YYYY-MM-DD.")
    ] = None,
    actor: Actor = OPERATOR,
) -> None:
    """Write appointment changes back to the FHIR server (ROTA_FHIR_BASE_URL) now: what
    changed since the last run, and with --from/--to every appointment in those days.
    Failures are retried by the outbox; dead ones are in `rota outbox list --dead`."""
    sender = _sender()
    db = open_database()
    result = fhir_writeback.push_now(
        db,
        identity.caller(db, actor),
        sender,
        now_utc(),
        start=parse_date(start) if start else None,
        end=parse_date(end) if end else None,
    )
    typer.echo(json.dumps(result))


@fhir_app.command("overwrite")
def fhir_overwrite(
    appointment: Annotated[str, typer.Argument(help="The appointment's Rota id.")],
    reason: Annotated[str, typer.Option(help="Why Rota's version replaces the EHR's (audited).")],
    actor: Actor = OPERATOR,
) -> None:
    """After a write-back conflict (`rota outbox list --dead`), write Rota's version of the
    appointment over the EHR's current one: a person's decision, audited."""
    sender = _sender()
    db = open_database()
    result = fhir_writeback.overwrite(
        db, identity.caller(db, actor), sender, appointment, reason, now_utc()
    )
    typer.echo(json.dumps(result))
    if result["sent"] != 1:
        raise typer.Exit(1)


def _sender() -> fhir_writeback.Pusher:
    if writeback.configure() is None:
        raise InvalidInput("no FHIR server is configured: set ROTA_FHIR_BASE_URL")
    sender = fhir_writeback.pusher()
    assert sender is not None
    return sender
