"""Slack configuration, from the environment (never from the facility file: these are secrets)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from clinic.errors import InvalidInput

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackSettings:
    signing_secret: str | None
    bot_token: str | None
    app_token: str | None = None
    api_url: str = DEFAULT_API_URL
    timeout: float = 10.0
    """Seconds for one Web API call before it counts as failed (and is retried)."""
    attempts: int = 4
    """Web API attempts per message before it waits in the outbox for the next sweep."""
    backoff: float = 0.5
    """First retry delay in seconds; doubled on each attempt (429s wait Retry-After instead)."""

    @classmethod
    def from_env(cls) -> SlackSettings:
        api_url = os.environ.get("ROTA_SLACK_API_URL") or DEFAULT_API_URL
        return cls(
            signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or None,
            bot_token=os.environ.get("SLACK_BOT_TOKEN") or None,
            app_token=os.environ.get("SLACK_APP_TOKEN") or None,
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            timeout=_float("ROTA_SLACK_TIMEOUT", 10.0),
            attempts=int(_float("ROTA_SLACK_ATTEMPTS", 4)),
            backoff=_float("ROTA_SLACK_BACKOFF", 0.5),
        )

    @property
    def configured(self) -> bool:
        return bool(self.signing_secret and self.bot_token)

    def require(self, *, socket: bool = False) -> None:
        missing = [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", self.bot_token),
                ("SLACK_SIGNING_SECRET", None if socket else self.signing_secret),
                ("SLACK_APP_TOKEN", self.app_token if socket else "-"),
            )
            if not value and not (socket and name == "SLACK_SIGNING_SECRET")
        ]
        if missing:
            raise InvalidInput(
                f"Slack is not configured: set {', '.join(missing)} "
                "(see slack/manifest.yaml and the README's Slack section)"
            )


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a number, not {raw!r}") from exc
