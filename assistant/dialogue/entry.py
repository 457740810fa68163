"""The entry point every door calls: one message in, one reply out, state kept per conversation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from assistant.conversation import load_state, new_conversation_id, save_state
from assistant.dialogue import wording
from assistant.dialogue.facts import Facts
from assistant.dialogue.reply import Reply
from assistant.dialogue.router import route
from assistant.dialogue.state import ConversationState
from assistant.dialogue.turn import Turn
from assistant.llm.gateway import Gateway
from assistant.roster import Roster
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from clinic.versions import one_read_per_request

MAX_MESSAGE = 2000


class Dialogue:
    def __init__(self, db: Database, clock: Callable[[], datetime] = now_utc) -> None:
        self.db = db
        self.clock = clock
        self.facts = Facts(db)

    def handle(self, caller: Caller, message: str, conversation_id: str | None = None) -> Reply:
        text = (message or "").strip()
        if not text:
            raise InvalidInput(wording.EMPTY_MESSAGE)
        if len(text) > MAX_MESSAGE:
            raise InvalidInput(wording.TOO_LONG)
        conversation_id = conversation_id or new_conversation_id()
        with self.db.read() as session:
            state = ConversationState.from_dict(
                load_state(session, conversation_id, caller.staff_id)
            )
        turn = Turn(self.db, self.facts, caller, conversation_id, state, text, self.clock())
        with one_read_per_request():  # the caches' versions, read once for the whole turn
            reply = route(turn)
        with self.db.session() as session:
            save_state(session, conversation_id, caller.staff_id, turn.state.as_dict())
        return reply

    def roster(self) -> Roster:
        return self.facts.roster()

    def gateway(self) -> Gateway | None:
        """The LLM gateway when ROTA_LLM is set (off by default)."""
        return self.facts.gateway()
