"""The weekly requirements a level of care implies (the level-of-care pack's `loc_requirements`).

A patient's requirements each carry a source: `level_of_care` ones follow from the ASAM level
and the treatment phase, and are re-derived when either changes; `treatment_plan` (the default
when none is given), `court_order` and `payer` ones were set by a person or a document and are
kept as they are. The phase takes away what it does not allow (`phase_categories`, the same table
LOC-PHASE-SESSION books by): a discharged patient is implied no individual sessions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.derive import category_of
from rules.model import SessionTypeFacts

LEVEL = "level_of_care"


def level_requirements(
    level: str | None,
    phase: str | None,
    tables: Mapping[str, Any],
    session_types: Mapping[str, SessionTypeFacts],
) -> list[dict[str, Any]]:
    """What the level implies in the phase, as facility-file requirements (only session types
    the facility has: a facility without individual sessions gets no individual minimum)."""
    implied = tables.get("loc_requirements", {}).get(level, {}) if level else {}
    allowed = tables.get("phase_categories", {}).get(phase) if phase else None
    return [
        {"session_type": st, "per_week": int(n), "source": LEVEL}
        for st, n in implied.items()
        if st in session_types
        and int(n) > 0
        and (allowed is None or category_of(st, session_types, tables) in allowed)
    ]


def rederive(
    requirements: list[dict[str, Any]],
    level: str | None,
    phase: str | None,
    tables: Mapping[str, Any],
    session_types: Mapping[str, SessionTypeFacts],
) -> list[dict[str, Any]]:
    """The requirements with the level's replaced by what `level` implies in `phase`."""
    kept = [r for r in requirements if r.get("source") != LEVEL]
    return kept + level_requirements(level, phase, tables, session_types)
