"""Attack and accounting tests: the demo facility seen through every door, and the command line
that answers "who saw this patient?"."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from clinic.db import Database
from integrations.cli.main import run
from tests.slack.conftest import fake_slack, slack, slack_env  # noqa: F401  (the Slack door)

AccessRows = Callable[..., list[dict[str, Any]]]


@pytest.fixture()
def audit_access(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> AccessRows:
    """`audit_access("p0002")`: what `rota audit access --patient p0002 --json` prints."""
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)

    def rows(patient: str, *extra: str) -> list[dict[str, Any]]:
        capsys.readouterr()
        code = run(["audit", "access", "--patient", patient, *extra, "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        return json.loads(out)

    return rows
