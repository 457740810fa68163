"""Refuse by role before anyone is named (PRIV-02, PRIV-10).

The dialogue resolves a patient's name before it checks whether the caller may act for that
patient, so a person whose role may not, say, find slots learns from the answer whether a
named person is a patient ("I don't know a patient called …" versus "Sorry, I can't …"), and a
first name alone gets the matching patients listed. Checking the role of the request first
gives everyone without the right the same sentence, whoever they named.

The dialogue calls it right after understanding a message, so every door gets it.
"""

from __future__ import annotations

from typing import Any

from assistant.access import ACTION_OF, may
from assistant.usecases.patients import PERMISSION_OF
from clinic.tokens import Caller
from rules import permissions

# The action each intent needs, as assistant.access names it.
_ACTION_OF_INTENT = {
    "find_slot": "find_slot",
    "book": "book",
    "cancel": "cancel",
    "reschedule": "reschedule",
    "emergency_intake": "emergency_intake",
    "utilization_summary": "utilization_summary",
    "compliance_report": "compliance_report",
}


def refusal(caller: Caller, frame: dict[str, Any]) -> str | None:
    """The sentence for a request the caller's role may not make at all, else None."""
    action = _ACTION_OF_INTENT.get(frame.get("intent") or "") or PERMISSION_OF.get(
        frame.get("action") or ""
    )
    if action is None or may(caller, action):
        return None
    if not permissions.scope_allows(caller.scope, ACTION_OF.get(action, action)):
        return (
            f"Sorry, I can't do that: you signed in with a {caller.scope}-only token, which "
            f"may not {action.replace('_', ' ')} (ask for a token with a wider scope)."
        )
    return (
        f"Sorry, I can't do that: a {caller.role.replace('_', ' ')} may not "
        f"{action.replace('_', ' ')}."
    )
