"""Socket Mode: for facilities that cannot expose a public URL. The same Bolt app and door, fed
over one outbound websocket (run it in one process only, not in every web worker). Slack does
not sign Socket Mode envelopes; the app-level token (xapp-…) authenticates the connection."""

from __future__ import annotations

import asyncio

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from assistant.dialogue import Dialogue
from clinic.db import Database
from integrations.slack.door import SlackDoor
from integrations.slack.settings import SlackSettings


def socket_handler(door: SlackDoor, app_token: str) -> AsyncSocketModeHandler:
    """Bolt's Socket Mode adapter around the door's app (call inside a running event loop)."""
    return AsyncSocketModeHandler(door.bolt, app_token, web_client=door.api.client)


async def serve(db: Database, settings: SlackSettings) -> None:
    settings.require(socket=True)
    door = SlackDoor(db, Dialogue(db), settings)
    handler = socket_handler(door, settings.app_token or "")
    await door.start()  # resume requests a previous process left unanswered
    try:
        await handler.start_async()  # runs until cancelled
    finally:
        await handler.close_async()


def run(db: Database, settings: SlackSettings) -> None:
    asyncio.run(serve(db, settings))
