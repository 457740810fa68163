"""Solver settings come from the environment, with explicit overrides winning."""

from __future__ import annotations

import pytest

from solver.settings import SolverSettings


def test_environment_then_overrides() -> None:
    env = {"ROTA_SOLVER_TIME_LIMIT": "12.5", "ROTA_SOLVER_WORKERS": "4", "ROTA_SOLVER_SEED": "9"}
    settings = SolverSettings.from_env(env)
    assert (settings.time_limit, settings.workers, settings.seed) == (12.5, 4, 9)
    assert SolverSettings.from_env(env, time_limit=3.0, workers=None).time_limit == 3.0
    assert SolverSettings.from_env({}).workers == SolverSettings().workers


@pytest.mark.parametrize("env", [{"ROTA_SOLVER_WORKERS": "two"}, {"ROTA_SOLVER_TIME_LIMIT": "0"}])
def test_bad_settings_are_refused_with_the_variable_named(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"ROTA_SOLVER|positive"):
        SolverSettings.from_env(env)
