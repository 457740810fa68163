"""The scenario table (tests/rules/scenarios.py): each case asserts the decision and exactly which
rules fired, plus the obligations a person would act on."""

from __future__ import annotations

import pytest

from rules.service import RulesService
from tests.rules.builders import STAFF
from tests.rules.scenarios import SCENARIOS, Scenario


@pytest.mark.parametrize("case", SCENARIOS, ids=[c.name for c in SCENARIOS])
def test_scenario(service: RulesService, case: Scenario) -> None:
    situation = case.build()
    actor = situation.staff.get(case.actor, STAFF.get(case.actor))
    assert actor is not None
    decision = service.evaluate(case.action, actor, situation)
    fired = set(decision.fired_ids)
    assert fired == case.fired, decision.message
    assert decision.allowed is case.allowed, decision.message
    for wanted in case.obligations:
        assert any(wanted in line for line in decision.obligations), decision.obligations
    for rule in decision.fired:
        assert rule.message and "?" not in rule.message.split(), rule.message
        assert rule.sources


def test_table_is_large_and_balanced() -> None:
    assert len(SCENARIOS) >= 50
    names = [c.name for c in SCENARIOS]
    assert len(names) == len(set(names))
    assert sum(c.allowed for c in SCENARIOS) >= 20
    assert sum(not c.allowed for c in SCENARIOS) >= 20


AREAS = {
    "PERM": "roles and permissions",
    "AUTH": "payer authorization",
    "LOC": "level of care",
    "CRT": "court orders",
    "STF": "credentials and supervision",
    "OPS": "spacing and same-day limits",
    "GRP": "groups",
    "PRIV": "consent and Part 2",
}


@pytest.mark.parametrize("prefix", AREAS)
def test_each_area_has_allowed_and_denied_cases(prefix: str) -> None:
    touching = [c for c in SCENARIOS if any(r.startswith(prefix + "-") for r in c.fired)]
    assert any(c.allowed for c in touching), f"no allowed case fires a {prefix} rule"
    assert any(not c.allowed for c in touching), f"no denied case fires a {prefix} rule"


def test_every_rule_is_exercised(service: RulesService) -> None:
    """Every active rule of the built-in packs fires in at least one scenario."""
    seen: set[str] = set()
    for case in SCENARIOS:
        situation = case.build()
        actor = situation.staff.get(case.actor, STAFF.get(case.actor))
        assert actor is not None
        seen.update(service.evaluate(case.action, actor, situation).fired_ids)
    missing = sorted({r.id for r in service.packs.active} - seen)
    assert not missing, f"rules never exercised by a scenario: {missing}"
