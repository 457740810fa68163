"""Understanding: a message → a request frame (../shared/contracts/request-frame.schema.json).

Deterministic and local: `parse(text, roster=..., now=..., actor=...)`. The LLM fallback for
low-confidence messages lives in `assistant.llm.fallback` and goes through the PHI redactor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant.parse.parser import FIELDS, Parser
from assistant.roster import Roster

__all__ = ["FIELDS", "Parser", "parse", "parser_for"]


def parser_for(roster: Roster) -> Parser:
    """The roster's parser, compiled once per Roster object."""
    parser = roster._cache.get("parser")
    if parser is None:
        parser = roster._cache["parser"] = Parser(roster)
    return parser


def parse(text: str, *, roster: Roster, now: datetime, actor: str | None = None) -> dict[str, Any]:
    return parser_for(roster).parse(text, now, actor)
