"""PHI protection: find Safe Harbor identifiers (Presidio, offline) and swap them for stable
placeholders that are restored locally. `redactor_for(roster)` gives the roster's redactor."""

from __future__ import annotations

import threading

from assistant.phi.redactor import (
    Entity,
    PlaceholderMap,
    RedactedText,
    Redaction,
    Redactor,
    describe,
)
from assistant.roster import Roster

__all__ = [
    "Entity",
    "PlaceholderMap",
    "RedactedText",
    "Redaction",
    "Redactor",
    "describe",
    "redactor_for",
]
_LOCK = threading.Lock()


def redactor_for(roster: Roster) -> Redactor:
    """The roster's redactor, built once per Roster object."""
    with _LOCK:
        redactor = roster._cache.get("redactor")
        if redactor is None:
            redactor = roster._cache["redactor"] = Redactor(roster)
    return redactor
