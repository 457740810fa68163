"""The one gateway to any language model, and its two uses: a fallback parse for messages the
rules cannot read with confidence, and optional prose for summaries built from aggregates."""

from __future__ import annotations

from assistant.llm.fallback import SpanFrame, understand
from assistant.llm.gateway import (
    AuditRecord,
    Gateway,
    LLMConfigError,
    chat_model_from_spec,
    db_audit_sink,
    load_prompt,
)
from assistant.llm.summary import summarize

__all__ = [
    "AuditRecord",
    "Gateway",
    "LLMConfigError",
    "SpanFrame",
    "chat_model_from_spec",
    "db_audit_sink",
    "load_prompt",
    "summarize",
    "understand",
]
