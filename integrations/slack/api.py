"""Calls to Slack's Web API with retries: 429s wait the Retry-After Slack asks for, server errors
and timeouts back off exponentially, and anything else is a permanent failure (a bad channel
will not get better by asking again). slack_sdk's own retry handlers are switched off so this
loop is the one place that decides.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from integrations.slack.settings import SlackSettings

log = logging.getLogger("rota.slack")

_TRANSIENT = {
    "ratelimited",
    "service_unavailable",
    "fatal_error",
    "internal_error",
    "request_timeout",
}
MAX_RETRY_AFTER = 120.0


class SendFailed(Exception):
    """A call that failed; `permanent` means retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


def make_client(settings: SlackSettings) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=settings.timeout,  # type: ignore[arg-type]  # aiohttp takes fractions too
        retry_handlers=[],
    )


class SlackApi:
    def __init__(
        self,
        settings: SlackSettings,
        client: AsyncWebClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        self._sleep = sleep
        self._dm: dict[str, str] = {}

    async def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """One Web API method, retried within this try: its answer. Raises SendFailed when it
        cannot be done (now); the outbox decides when to try again."""
        delay = self.settings.backoff
        reason = "no attempt made"
        attempts = max(1, self.settings.attempts)
        for attempt in range(1, attempts + 1):
            wait = delay
            try:
                response = await self.client.api_call(method, json=kwargs)
                data = dict(response.data) if isinstance(response.data, dict) else {}
                return data
            except SlackApiError as exc:
                status = getattr(exc.response, "status_code", 0)
                error = _error_of(exc)
                reason = f"{method}: {status} {error}"
                if status == 429 or error == "ratelimited":
                    wait = min(_retry_after(exc), MAX_RETRY_AFTER)
                elif status < 500 and error not in _TRANSIENT:
                    raise SendFailed(reason, permanent=True) from None
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                reason = f"{method}: {exc.__class__.__name__}"
            if attempt < attempts:
                log.warning("Slack %s failed (%s); retrying in %.1fs", method, reason, wait)
                await self._sleep(wait)
                delay *= 2
        raise SendFailed(reason, permanent=False)

    async def dm_channel(self, slack_user: str) -> str:
        """The bot's direct-message channel with a person (opened once, then remembered)."""
        if slack_user not in self._dm:
            data = await self.call("conversations.open", users=slack_user)
            self._dm[slack_user] = data["channel"]["id"]
        return self._dm[slack_user]

    def remember_dm(self, slack_user: str, channel: str) -> None:
        self._dm.setdefault(slack_user, channel)

    def known_dm(self, slack_user: str) -> str | None:
        return self._dm.get(slack_user)


def _error_of(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    return str(data.get("error", "")) if isinstance(data, dict) else ""


def _retry_after(exc: SlackApiError) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    for name, value in dict(headers).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return 1.0
