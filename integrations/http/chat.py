"""POST /api/chat: the conversation over HTTP (the same dialogue as Slack and the terminal)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from assistant.dialogue import Dialogue
from clinic.tokens import Caller
from integrations.http.api import ApiController
from integrations.http.auth import ANY_SCOPE
from integrations.http.fields import SAID_PATTERN, described


@dataclass
class ChatMessage:
    message: Annotated[str, described(pattern=SAID_PATTERN)]
    conversation_id: str | None = None


class ChatController(ApiController):
    path = "/api/chat"
    tags = ["chat"]

    @post("/", sync_to_thread=True, status_code=200, opt=ANY_SCOPE)
    def chat(
        self,
        dialogue: NamedDependency[Dialogue],
        caller: NamedDependency[Caller],
        data: JSONBody[ChatMessage],
    ) -> dict[str, Any]:
        """Say something; get the reply, what was understood, options and possible actions."""
        return dialogue.handle(caller, data.message, data.conversation_id).as_json()
