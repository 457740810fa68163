"""One rules service for the whole test session: compiling packs registers a durable_rules
ruleset that is never freed, so tests share it instead of building one each."""

from __future__ import annotations

import pytest

from rules.service import RulesService


@pytest.fixture(scope="session")
def service() -> RulesService:
    return RulesService(use_env=False)
