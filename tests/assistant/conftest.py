"""Use-case tests run against the demo 's' facility, Mon 30 Nov 2026 08:30 in New York."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rules import service as rules_service

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=NY)
END_OF_DAY = datetime(2026, 12, 1, 0, 0, tzinfo=NY)
DIRECTOR, CASE_MANAGER, THERAPIST, OTHER_THERAPIST, FRONT_DESK = (
    "s001",
    "s006",
    "c004",
    "c003",
    "s004",
)


@pytest.fixture()
def grant_roles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[dict[str, str]], None]:
    """Give staff members extra roles the facility file cannot express, the way a facility
    does: `data: {roles: …}` in its ROTA_RULES_DIR (the process-wide rules service is rebuilt
    from it, and restored afterwards)."""

    def grant(roles: dict[str, str]) -> None:
        directory = tmp_path / "facility-rules"
        directory.mkdir(exist_ok=True)
        lines = "".join(f"    {staff}: [{role}]\n" for staff, role in roles.items())
        (directory / "roles.yaml").write_text(f"data:\n  roles:\n{lines}", encoding="utf-8")
        monkeypatch.setenv("ROTA_RULES_DIR", str(directory))
        monkeypatch.setattr(rules_service, "_DEFAULT", None)

    return grant


@pytest.fixture(autouse=True)
def quick_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROTA_SOLVER_TIME_LIMIT", "2")
