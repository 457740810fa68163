"""Per-user conversation state, kept in the database so every door and every process shares it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from clinic.db import Database
from clinic.errors import NotFound
from clinic.models import ConversationState
from clinic.timeutil import now_utc


def new_conversation_id() -> str:
    return f"conv-{uuid.uuid4().hex[:16]}"


def load_state(session: Session, conversation_id: str, staff_id: str) -> dict[str, Any]:
    row = session.get(ConversationState, conversation_id)
    if row is None:
        return {}
    if row.staff_id != staff_id:
        # Another person's conversation: say nothing about it.
        raise NotFound(f"no conversation {conversation_id!r}")
    return dict(row.state)


def read_state(db: Database, conversation_id: str, staff_id: str) -> dict[str, Any]:
    """`load_state` in a read-only transaction of its own (for a door checking a button)."""
    with db.read() as session:
        return load_state(session, conversation_id, staff_id)


def save_state(
    session: Session, conversation_id: str, staff_id: str, state: dict[str, Any]
) -> None:
    row = session.get(ConversationState, conversation_id)
    if row is None:
        session.add(
            ConversationState(
                id=conversation_id, staff_id=staff_id, state=state, updated_at=now_utc()
            )
        )
    else:
        row.state = state
        row.updated_at = now_utc()
