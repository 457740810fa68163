"""Signed Slack requests, as Slack sends them, for tests and the benchmark."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.slack.fake_slack import BOT_USER, TEAM, Call

SIGNING_SECRET = "test-signing-secret-8f1c"
BOT_TOKEN = "xoxb-test-token"


def signed(
    body: str,
    content_type: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    retry: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }
    if retry is not None:
        headers["x-slack-retry-num"] = str(retry)
        headers["x-slack-retry-reason"] = "http_timeout"
    return body.encode(), headers


def event_body(event: dict[str, Any], event_id: str | None = None, **extra: Any) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "AROTA",
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
            "event": event,
            **extra,
        }
    )


def dm_event(user: str, text: str) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {
        "type": "message",
        "channel_type": "im",
        "channel": dm_channel(user),
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }


def mention_event(user: str, channel: str, text: str) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@{BOT_USER}> {text}",
        "ts": ts,
        "event_ts": ts,
    }


def dm_channel(user: str) -> str:
    """The fake server's DM channel id for a user (conversations.open answers the same)."""
    return "D" + user[1:]


def command_body(user: str, channel: str, text: str) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "frontdesk",
            "user_id": user,
            "command": "/rota",
            "text": text,
            "response_url": "https://hooks.slack.invalid/commands/1",
            "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:8]}",
        }
    )


def buttons(call: Call) -> dict[str, dict[str, Any]]:
    """action_id → button, for the message a recorded call showed."""
    blocks = call.args.get("blocks") or []
    found: dict[str, dict[str, Any]] = {}
    for block in blocks:
        if block.get("accessory", {}).get("type") == "button":
            found[block["accessory"]["action_id"]] = block["accessory"]
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found[element["action_id"]] = element
    return found


def press_body(user: str, call: Call, action_id: str) -> str:
    """A click on a button of the message a recorded post or update showed."""
    button = buttons(call)[action_id]
    ts = call.args.get("ts") or call.answer.get("ts")
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user},
        "api_app_id": "AROTA",
        "token": "legacy",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": call.channel,
            "is_ephemeral": False,
        },
        "channel": {"id": call.channel},
        "message": {"ts": ts, "blocks": call.args.get("blocks")},
        "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:8]}",
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": button.get("value"),
                "text": button.get("text"),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})
