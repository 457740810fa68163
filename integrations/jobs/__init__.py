"""The engines that decide *when* jobs run: an in-process scheduler (the embedded default) and
procrastinate workers (PostgreSQL). Both call `assistant.jobs.run_job`, which claims each run in
the database, so any number of engines may tick at once.

ROTA_JOBS picks the engine for `rota serve`: `embedded` (default: a scheduler thread in the
server) or `procrastinate` (the server stays stateless; `rota worker` processes run the jobs).
ROTA_SCHEDULER=off switches the embedded scheduler off.
"""

from __future__ import annotations

import os

from clinic.errors import InvalidInput

ENGINES = ("embedded", "procrastinate")


def engine() -> str:
    value = os.environ.get("ROTA_JOBS", "").strip().lower() or "embedded"
    if value not in ENGINES:
        raise InvalidInput(f"ROTA_JOBS: must be one of {', '.join(ENGINES)}, not {value!r}")
    return value


def serve_schedules() -> bool:
    """Whether `rota serve` runs the embedded scheduler."""
    switch = os.environ.get("ROTA_SCHEDULER", "").strip().lower() or "on"
    if switch not in {"on", "off"}:
        raise InvalidInput(f"ROTA_SCHEDULER: must be on or off, not {switch!r}")
    return switch == "on" and engine() == "embedded"
