"""`rota ical url|revoke|list|initials`: calendar feeds for clinicians and rooms."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from assistant.usecases import feeds
from clinic.db import open_database
from clinic.errors import InvalidInput
from integrations.cli import identity

ACTOR_HELP = "Who is asking (a staff id); recorded in the audit log."


def _one_subject(staff: str | None, room: str | None) -> tuple[str, str] | None:
    if staff and room:
        raise InvalidInput("give --staff or --room, not both")
    if staff:
        return "staff", staff
    if room:
        return "room", room
    return None


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Calendar feeds (iCalendar) for clinicians and rooms, at secret URLs.",
        add_completion=False,
    )
    app.add_typer(group, name="ical")

    @group.command("url")
    def url(
        staff: Annotated[str | None, typer.Option(help="A clinician's feed.")] = None,
        room: Annotated[str | None, typer.Option(help="A room's feed.")] = None,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
    ) -> None:
        """Make a new secret feed URL and print it, last on its line (shown once; relative to
        the server's base unless ROTA_BASE_URL is set). Earlier URLs work until revoked."""
        subject = _one_subject(staff, room)
        if subject is None:
            raise InvalidInput("give --staff ID or --room ID")
        db = open_database()
        issued = feeds.issue(
            db,
            identity.caller(db, actor),
            *subject,
            base=os.environ.get(feeds.BASE_URL_ENV) or None,
        )
        typer.echo(
            f"calendar feed {issued.id} for {issued.subject_name} ({issued.subject}); "
            f"keep it secret: {issued.path}"
        )

    @group.command("revoke")
    def revoke(
        feed: Annotated[str | None, typer.Argument(help="The feed's URL or token.")] = None,
        staff: Annotated[str | None, typer.Option(help="Every feed of this clinician.")] = None,
        room: Annotated[str | None, typer.Option(help="Every feed of this room.")] = None,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
    ) -> None:
        """Revoke a feed (its URL answers 404 from now on)."""
        subject = _one_subject(staff, room)
        if (subject is None) == (feed is None):
            raise InvalidInput("give the feed's URL (or token), or --staff ID, or --room ID")
        db = open_database()
        caller = identity.caller(db, actor)
        if subject is None:
            ids = feeds.revoke(db, caller, token=feed)
        else:
            ids = feeds.revoke(db, caller, kind=subject[0], subject=subject[1])
        typer.echo(f"revoked {len(ids)} feed(s)" + (f": {', '.join(map(str, ids))}" if ids else ""))

    @group.command("list")
    def list_(
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Every feed issued, live or revoked (the URLs themselves are not kept)."""
        db = open_database()
        rows = feeds.listing(db, identity.caller(db, actor))
        if as_json:
            typer.echo(
                json.dumps(
                    [
                        {
                            "id": r.id,
                            "kind": r.kind,
                            "subject": r.subject,
                            "created_at": r.created_at.isoformat(),
                            "created_by": r.created_by,
                            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
                        }
                        for r in rows
                    ],
                    indent=2,
                )
            )
            return
        typer.echo(f"calendar feeds: {len(rows)}")
        for r in rows:
            state = f"revoked {r.revoked_at:%Y-%m-%d %H:%M}Z" if r.revoked_at else "live"
            typer.echo(
                f"  {r.id:>4}  {r.kind:<5} {r.subject:<12} created {r.created_at:%Y-%m-%d %H:%M}Z "
                f"by {r.created_by}  {state}"
            )

    @group.command("initials")
    def initials(
        setting: Annotated[str, typer.Argument(help="on: feeds show patients' initials; off.")],
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
    ) -> None:
        """The facility's setting for patients' initials in feeds (default off)."""
        if setting not in ("on", "off"):
            raise InvalidInput("say on or off")
        db = open_database()
        feeds.set_patient_initials(db, identity.caller(db, actor), setting == "on")
        typer.echo(f"patients' initials in calendar feeds: {setting}")
