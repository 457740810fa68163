"""Part 2 consents on a patient's contact: which recipients the patient consents to, on a day.

A consent recorded through Rota (`contact.consents`: to whom, what, until when, revoked when)
decides for the recipient it names; an expired or revoked one no longer counts. Recipients in
the file's plain `consent_disclose_to` that no recorded consent names (consents given before
Rota) count as they are. `consent_disclose_to` is rewritten from this on every change, so a
reader of the plain list sees the consents in force when the record was last written, and the
rules read `in_force` (exact on any day, expiry included).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any


def in_force(consent: Mapping[str, Any], on: date) -> bool:
    """The consent counts on `on`: not revoked by then, and not past its last day."""
    revoked, until = consent.get("revoked"), consent.get("until")
    if revoked is not None and str(revoked) <= on.isoformat():
        return False
    return until is None or on.isoformat() <= str(until)


def disclose_to(contact: Mapping[str, Any] | None, on: date) -> list[str]:
    """The recipients the patient consents to disclosure to on `on` (see the module's words)."""
    contact = contact or {}
    # A malformed consent (not an object, no recipient) is left for the record's schema check
    # to name, rather than failing here first.
    recorded = [
        c for c in _list(contact.get("consents")) if isinstance(c, Mapping) and "recipient" in c
    ]
    named = {_key(c["recipient"]) for c in recorded}
    out = [r for r in _list(contact.get("consent_disclose_to")) if _key(r) not in named]
    out += [c["recipient"] for c in recorded if in_force(c, on)]
    return list(dict.fromkeys(out))


def with_derived_list(contact: Mapping[str, Any] | None, on: date) -> dict[str, Any]:
    """The contact with `consent_disclose_to` rewritten from its recorded consents (kept as it
    is when no consent is recorded)."""
    out = dict(contact or {})
    if out.get("consents"):
        out["consent_disclose_to"] = disclose_to(out, on)
    return out


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _key(recipient: object) -> str:
    return str(recipient).strip().lower()
