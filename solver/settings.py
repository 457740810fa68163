"""CP-SAT settings from configuration:
ROTA_SOLVER_TIME_LIMIT, ROTA_SOLVER_WORKERS, ROTA_SOLVER_SEED (CLI options override them).

Determinism: with one worker and a fixed seed CP-SAT is reproducible; with several workers the
portfolio races, so two runs under a time limit may return different (equally valid) plans.
That is why tests assert quality thresholds and validity, never one exact schedule.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model


@dataclass(frozen=True)
class SolverSettings:
    time_limit: float = 30.0
    """Seconds for a whole plan (both phases)."""
    workers: int = 2
    seed: int = 0
    placement_share: float = 0.8
    """Share of the time limit phase 1 may use (it stops early when optimal). Phase 1 places
    sessions and, second, keeps patients with their clinicians and preferred times; on large
    facilities CP-SAT's bound closes late (demo 'l': a 33% gap after 25 s, under 1% after 40 s).
    Phase 2 (spreading, compact days) gets the rest."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> SolverSettings:
        env = os.environ if env is None else env
        settings = cls()
        values: dict[str, object] = {}
        for field, var, cast in (
            ("time_limit", "ROTA_SOLVER_TIME_LIMIT", float),
            ("workers", "ROTA_SOLVER_WORKERS", int),
            ("seed", "ROTA_SOLVER_SEED", int),
        ):
            text = env.get(var)
            if text:
                try:
                    values[field] = cast(text)
                except ValueError as exc:
                    raise ValueError(f"{var}={text!r} is not a number") from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = replace(settings, **values)  # type: ignore[arg-type]
        if settings.time_limit <= 0 or settings.workers < 1:
            raise ValueError("the solver needs a positive time limit and at least one worker")
        return settings

    def apply(self, solver: cp_model.CpSolver, seconds: float | None = None) -> None:
        solver.parameters.max_time_in_seconds = max(0.05, seconds or self.time_limit)
        solver.parameters.num_workers = self.workers
        solver.parameters.random_seed = self.seed
