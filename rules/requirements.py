"""The weekly requirements a level of care implies (the level-of-care pack's `loc_requirements`).

A patient's requirements each carry a source: `level_of_care` ones follow from the ASAM level
and are re-derived when it changes; `treatment_plan` (the default when none is given),
`court_order` and `payer` ones were set by a person or a document and are kept as they are.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

LEVEL = "level_of_care"


def level_requirements(
    level: str | None, tables: Mapping[str, Any], session_types: Collection[str]
) -> list[dict[str, Any]]:
    """What the level implies, as facility-file requirements (only session types the facility
    has: a facility without individual sessions gets no individual minimum)."""
    implied = tables.get("loc_requirements", {}).get(level, {}) if level else {}
    return [
        {"session_type": st, "per_week": int(n), "source": LEVEL}
        for st, n in implied.items()
        if st in session_types and int(n) > 0
    ]


def rederive(
    requirements: list[dict[str, Any]],
    level: str | None,
    tables: Mapping[str, Any],
    session_types: Collection[str],
) -> list[dict[str, Any]]:
    """The requirements with the level's replaced by what `level` implies; the rest kept."""
    kept = [r for r in requirements if r.get("source") != LEVEL]
    return kept + level_requirements(level, tables, session_types)
