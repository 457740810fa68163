"""`rota slack …`: link staff to Slack users, run Socket Mode, resend what Slack missed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from assistant import slack_store as store
from assistant.usecases import people
from clinic.db import open_database
from clinic.errors import InvalidInput
from integrations.cli import identity
from integrations.slack.settings import SlackSettings

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yaml"
EXAMPLE_URL = "https://rota.example.org/slack/events"


def register(app: typer.Typer) -> None:
    slack_app = typer.Typer(
        help="The Slack app: Socket Mode, linking people, the outbox.",
        add_completion=False,
        invoke_without_command=True,
    )

    @slack_app.callback()
    def slack(
        ctx: typer.Context,
        socket: Annotated[
            bool,
            typer.Option(
                "--socket",
                help="Connect over Socket Mode (needs SLACK_APP_TOKEN and SLACK_BOT_TOKEN).",
            ),
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """With --socket: serve Slack over Socket Mode. Alone: what is configured and owed."""
        if ctx.invoked_subcommand is not None:
            return
        settings = SlackSettings.from_env()
        if socket:
            from integrations.slack import socket_mode

            settings.require(socket=True)
            db = open_database()
            typer.echo("Rota is connecting to Slack over Socket Mode (Ctrl-C to stop)", err=True)
            socket_mode.run(db, settings)
            return
        db = open_database()
        links = people.slack_links(db)
        status = {
            "http_configured": settings.configured,
            "socket_mode_configured": bool(settings.app_token and settings.bot_token),
            "api_url": settings.api_url,
            "staff_linked": links.linked,
            "staff_total": links.total,
            **store.counts(db),
        }
        if as_json:
            typer.echo(json.dumps(status, indent=2))
            return
        for key, value in status.items():
            typer.echo(f"{key}: {value}")
        if not settings.configured:
            typer.echo(
                "set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, then `rota serve` answers at "
                "/slack/events (or set SLACK_APP_TOKEN and run `rota slack --socket`)"
            )

    @slack_app.command("link")
    def link(
        staff: Annotated[str, typer.Option(help="Staff id, e.g. c004.")],
        slack_user: Annotated[str, typer.Option("--slack-user", help="Slack member id, U…")],
        actor: Annotated[str, typer.Option(help="Who is linking (audit log).")] = "operator",
    ) -> None:
        """Link a staff member to their Slack account (recorded in the audit log)."""
        db = open_database()
        before = people.link_slack(db, staff, slack_user, actor=identity.acting(db, actor))
        was = f" (was {before})" if before and before != slack_user else ""
        typer.echo(f"linked {staff} to Slack user {slack_user}{was}")

    @slack_app.command("unlink")
    def unlink(
        staff: Annotated[str, typer.Option(help="Staff id.")],
        actor: Annotated[str, typer.Option(help="Who is unlinking (audit log).")] = "operator",
    ) -> None:
        """Forget a staff member's Slack account: Rota will refuse that Slack user."""
        db = open_database()
        before = people.unlink_slack(db, staff, actor=identity.acting(db, actor))
        typer.echo(f"unlinked {staff}" + (f" from {before}" if before else " (was not linked)"))

    @slack_app.command("resend")
    def resend() -> None:
        """Send the Slack messages due now after an outage (the server also does this every
        30 seconds; one backing off after a failed try waits its turn)."""
        from assistant.dialogue import Dialogue
        from integrations.slack.door import SlackDoor

        settings = SlackSettings.from_env()
        if not settings.bot_token:
            raise InvalidInput("set SLACK_BOT_TOKEN to send messages")
        db = open_database()
        identity.acting(db)
        door = SlackDoor(db, Dialogue(db), settings, sweep_seconds=0)
        asyncio.run(door.resend())
        counts = store.counts(db)
        typer.echo(
            f"sent; {counts.get('messages_pending', 0)} still owed, "
            f"{counts.get('messages_dead', 0)} dead (`rota outbox list --dead`)"
        )

    @slack_app.command("manifest")
    def manifest(
        url: Annotated[
            str, typer.Option(help="Public HTTPS URL of this server's /slack/events.")
        ] = EXAMPLE_URL,
    ) -> None:
        """Print the app manifest to paste at api.slack.com/apps (Create New App → From a
        manifest)."""
        if not MANIFEST.exists():
            raise InvalidInput(f"manifest not found at {MANIFEST}")
        if not url.startswith("https://"):
            raise InvalidInput("Slack needs an https:// URL for events (or use Socket Mode)")
        typer.echo(MANIFEST.read_text(encoding="utf-8").replace(EXAMPLE_URL, url), nl=False)

    app.add_typer(slack_app, name="slack")
