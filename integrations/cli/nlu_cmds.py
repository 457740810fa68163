"""`rota parse` and `rota redact`: the understanding and privacy layers from the terminal.

Both read the roster from the database (an empty database works: no names are known then).
With --jsonl they read one message a line from stdin and print one JSON object a line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import typer

from assistant.llm import Gateway, LLMConfigError, db_audit_sink, understand
from assistant.parse import parse
from assistant.phi import describe, redactor_for
from assistant.roster import Roster, read_roster
from clinic.db import Database, open_database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc, parse_datetime, zone

JsonlFlag = Annotated[
    bool, typer.Option("--jsonl", help="Read one message a line from stdin; print one JSON a line.")
]
TextArg = Annotated[str | None, typer.Argument(help="The message (omit with --jsonl).")]


def _messages(text: str | None, jsonl: bool) -> Iterator[str]:
    if jsonl:
        if text:
            raise InvalidInput("give either TEXT or --jsonl (messages on stdin), not both")
        for line in sys.stdin:
            if line.strip():
                yield line.rstrip("\n")
        return
    if not text or not text.strip():
        raise InvalidInput("nothing to read: give the message as TEXT, or use --jsonl with stdin")
    yield text


def _emit(obj: dict[str, Any], jsonl: bool) -> None:
    if jsonl:
        typer.echo(json.dumps(obj, ensure_ascii=False))
    else:
        typer.echo(json.dumps(obj, indent=2, ensure_ascii=False))


def _gateway(db: Database, roster: Roster, actor: str | None) -> Gateway | None:
    """The LLM fallback when ROTA_LLM is set; a misconfiguration is a warning, not a failure."""
    try:
        return Gateway.from_env(redactor_for(roster), audit=db_audit_sink(db), actor=actor or "cli")
    except LLMConfigError as exc:
        typer.echo(f"rota: warning: {exc}; parsing with rules only", err=True)
        return None


def register(app: typer.Typer) -> None:
    @app.command("parse")
    def parse_cmd(
        text: TextArg = None,
        now: Annotated[
            str | None,
            typer.Option(
                help="Reference time, ISO 8601 (default: the clock), facility-local if "
                "no offset is given."
            ),
        ] = None,
        jsonl: JsonlFlag = False,
        actor: Annotated[
            str | None, typer.Option("--as", help="Staff id of the person writing.")
        ] = None,
    ) -> None:
        """Print the request frame (../shared/contracts/request-frame.schema.json) of a message."""
        db = open_database()
        roster = read_roster(db)
        tz = zone(roster.timezone)
        reference = parse_datetime(now, tz) if now else now_utc()
        local_now: datetime = reference.astimezone(tz)
        if actor and roster.staff and actor not in {s.id for s in roster.staff}:
            raise InvalidInput(f"--as {actor!r} is not a staff id in this facility")
        gateway = _gateway(db, roster, actor)
        for message in _messages(text, jsonl):
            if gateway is None:
                frame = parse(message, roster=roster, now=local_now, actor=actor)
            else:
                frame = understand(
                    message, roster=roster, now=local_now, actor=actor, gateway=gateway
                )
            _emit(frame, jsonl)

    @app.command("redact")
    def redact_cmd(text: TextArg = None, jsonl: JsonlFlag = False) -> None:
        """Print the message with every identifier replaced by a placeholder, and where they were
        (types and offsets only: the original values are never printed)."""
        db = open_database()
        redactor = redactor_for(read_roster(db))
        for message in _messages(text, jsonl):
            _emit(describe(redactor.redact(message)), jsonl)
