"""Many threads at once: every decision is the one a single thread gets (the engine is locked)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from rules.service import RulesService
from tests.rules.builders import STAFF
from tests.rules.scenarios import SCENARIOS


def test_decisions_from_many_threads_are_all_correct(service: RulesService) -> None:
    cases = [(c, c.build()) for c in SCENARIOS]

    def run(index: int) -> list[tuple[str, bool, frozenset[str]]]:
        out = []
        for case, situation in cases[index % 7 :] + cases[: index % 7]:
            actor = situation.staff.get(case.actor, STAFF.get(case.actor))
            decision = service.evaluate(case.action, actor, situation)
            out.append((case.name, decision.allowed, frozenset(decision.fired_ids)))
        return out

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(16)))
    expected = {c.name: (c.allowed, c.fired) for c in SCENARIOS}
    checked = 0
    for result in results:
        for name, allowed, fired in result:
            assert (allowed, fired) == expected[name], name
            checked += 1
    assert checked == 16 * len(SCENARIOS)
