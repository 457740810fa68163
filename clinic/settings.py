"""Settings read from the environment: one reader for every whole-number setting, so each
refuses a bad value with the same plain words (name, what it must be, what it got)."""

from __future__ import annotations

import os

from clinic.errors import InvalidInput


def whole_number(name: str, default: int, *, unit: str = "", most: int | None = None) -> int:
    """The environment variable `name` as a whole number of at least 1 (at most `most`), or
    `default` when unset or blank; `unit` ("days", "minutes") only words the refusal."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1 or (most is not None and int(raw) > most):
        what = f"a whole number{' of ' + unit if unit else ''}"
        limits = f"from 1 to {most}" if most is not None else "(at least 1)"
        raise InvalidInput(f"{name} must be {what} {limits}, not {raw!r}")
    return int(raw)
