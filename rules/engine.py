"""The rule engine behind a thin adapter: durable_rules today, swappable tomorrow.

`RuleEngine.fire(facts)` asserts the facts of one decision and returns which rules matched which
fact. Everything else (messages, overrides, obligations) is plain Python in `rules.decision`.

durable_rules pitfalls handled here (see the stack notes, section 4):
- one process-wide `Host` (`durable.lang.get_host()`): every Host starts two timer threads forever;
- ruleset names can be registered only once, so each compiled pack set gets a versioned name;
- `Ruleset` deletes `run` from the dict it is given, so it gets a fresh copy;
- at most 1024 live sids per ruleset: each decision uses a new sid and deletes its state;
- exceptions in actions are swallowed into the state: the state is checked after each decision;
- not documented as thread-safe: one lock serializes every call into the engine.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable
from typing import Any, Protocol

from durable.engine import MessageNotHandledException
from durable.lang import get_host

from rules.compiler import antecedent
from rules.loader import PackSet, Rule

Fact = dict[str, Any]
Match = tuple[Rule, Fact]

_LOCK = threading.Lock()
"""One lock for the one host: every call into durable_rules holds it."""
_VERSIONS = itertools.count(1)
_SIDS = itertools.count(1)


class RuleEngine(Protocol):
    def fire(self, facts: list[Fact]) -> list[Match]: ...


class EngineFailure(RuntimeError):
    """The engine itself failed (not a rule decision): a bug to report, never a 'no'."""


class DurableRulesEngine:
    """All active rules of a `PackSet` compiled into one durable_rules ruleset."""

    def __init__(self, packs: PackSet) -> None:
        self.rules = {rule.id: rule for rule in packs.active}
        self.name = f"rota_rules_v{next(_VERSIONS)}"
        self._matches: dict[str, list[tuple[str, Fact]]] = {}
        definition: dict[str, Any] = {}
        for index, rule in enumerate(packs.active):
            definition[f"r{index}_{rule.id}"] = {
                "all": [{"m": antecedent(rule.subject, rule.actions, rule.when, rule.params)}],
                "run": self._recorder(rule.id),
            }
        with _LOCK:
            get_host().set_rulesets({self.name: definition})

    def _recorder(self, rule_id: str) -> Callable[[Any], None]:
        # One generic action, bound to its rule id; it only records (side effects stay outside).
        matches = self._matches

        def record(c: Any) -> None:
            fact = dict(c.m._d) if hasattr(c.m, "_d") else dict(c.m)
            matches.setdefault(str(c.s.sid), []).append((rule_id, fact))

        return record

    def fire(self, facts: list[Fact]) -> list[Match]:
        if not facts:
            return []
        host = get_host()
        with _LOCK:
            sid = f"d{next(_SIDS)}"
            stamped = [{**fact, "sid": sid, "n": i} for i, fact in enumerate(facts)]
            try:
                for fact in stamped:
                    # One at a time: a batch with one unmatched fact fires nothing at all.
                    # NotHandled only means no rule is about this fact.
                    with contextlib.suppress(MessageNotHandledException):
                        host.assert_fact(self.name, fact)
                state = host.get_state(self.name, sid)
            finally:
                recorded = self._matches.pop(sid, [])
                host.delete_state(self.name, sid)
        if state and state.get("exception"):
            raise EngineFailure(f"a rule action failed: {state['exception']}")
        out: list[Match] = []
        for rule_id, fact in recorded:
            fact.pop("sid", None)
            fact.pop("n", None)
            fact.pop("id", None)
            out.append((self.rules[rule_id], fact))
        return out
