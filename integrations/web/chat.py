"""The chat side panel: the same dialogue as Slack and /api/chat, one conversation per signed-in
staff member (an opaque id derived from theirs), replies and options rendered as HTML."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from assistant.dialogue import Dialogue
from integrations.web.render import fragment
from integrations.web.session import Visitor

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


@dataclass
class ChatForm:
    message: str = ""


def conversation_id(staff_id: str) -> str:
    return f"web-{hashlib.sha256(f'web:{staff_id}'.encode()).hexdigest()[:32]}"


@post("/chat", sync_to_thread=True, status_code=200)
def say(
    dialogue: NamedDependency[Dialogue],
    visitor: NamedDependency[Visitor],
    data: Annotated[ChatForm, FORM],
) -> Template:
    reply = dialogue.handle(visitor.caller, data.message, conversation_id(visitor.caller.staff_id))
    return fragment("chat_reply.html", visitor, said=data.message, reply=reply)


HANDLERS: list[Any] = [say]
