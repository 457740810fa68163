"""The rule engine behind a thin adapter: durable_rules today, swappable tomorrow.

`RuleEngine.fire(facts)` asserts the facts of one decision and returns which rules matched which
fact. Everything else (messages, overrides, obligations) is plain Python in `rules.decision`.

durable_rules pitfalls handled here (see the stack notes, section 4):
- one process-wide `Host` (`durable.lang.get_host()`): every Host starts two timer threads forever;
- ruleset names can be registered only once, so each compiled pack set gets a versioned name;
- `Ruleset` deletes `run` from the dict it is given, so it gets a fresh copy;
- at most 1024 live sids per ruleset: one sid is used, and facts are retracted after each decision
  (never `delete_state`: it crashed the interpreter, see `fire`);
- exceptions in actions are swallowed into the state: the one action catches and reports its own;
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
_SEQ = itertools.count(1)
_SID = "rota"


def _guard_host_threads(ruleset: Any) -> None:
    """The host's two timer threads call `dispatch` / `dispatch_timers` on every ruleset every
    200 ms, outside any lock of ours; they take the engine lock too."""
    for name in ("dispatch", "dispatch_timers"):
        unguarded = getattr(ruleset, name)

        def guarded(unguarded: Callable[[], Any] = unguarded) -> Any:
            with _LOCK:
                return unguarded()

        setattr(ruleset, name, guarded)


class RuleEngine(Protocol):
    def fire(self, facts: list[Fact]) -> list[Match]: ...


class EngineFailure(RuntimeError):
    """The engine itself failed (not a rule decision): a bug to report, never a 'no'."""


class DurableRulesEngine:
    """All active rules of a `PackSet` compiled into one durable_rules ruleset."""

    def __init__(self, packs: PackSet) -> None:
        self.rules = {rule.id: rule for rule in packs.active}
        self.name = f"rota_rules_v{next(_VERSIONS)}"
        self._matches: list[tuple[str, Fact]] = []
        self._errors: list[str] = []
        definition: dict[str, Any] = {}
        for index, rule in enumerate(packs.active):
            definition[f"r{index}_{rule.id}"] = {
                "all": [{"m": antecedent(rule.subject, rule.actions, rule.when, rule.params)}],
                "run": self._recorder(rule.id),
            }
        with _LOCK:
            host = get_host()
            host.set_rulesets({self.name: definition})
            _guard_host_threads(host.get_ruleset(self.name))

    def _recorder(self, rule_id: str) -> Callable[[Any], None]:
        # One generic action, bound to its rule id. It only records (side effects stay outside)
        # and catches its own errors: durable_rules would swallow them into the state.
        matches, errors = self._matches, self._errors

        def record(c: Any) -> None:
            try:
                matches.append((rule_id, dict(c.m._d)))
            except Exception as exc:  # reported by fire()
                errors.append(f"{rule_id}: {exc!r}")

        return record

    def fire(self, facts: list[Fact]) -> list[Match]:
        """Assert each fact, collect the rules it fires, then retract it.

        Facts are retracted rather than their state deleted: `delete_state` after a partly
        matched fact crashed the interpreter (double free / segfault, reproduced in a loop of
        a few hundred decisions). Retracting leaves one small, empty state under one sid, so
        the 1024-sid cap is never approached. Each fact carries a sequence number so an
        identical fact is never 'already observed'."""
        host = get_host()
        with _LOCK:
            self._matches.clear()
            self._errors.clear()
            for fact in facts:
                stamped = {**fact, "sid": _SID, "seq": next(_SEQ)}
                try:
                    host.assert_fact(self.name, stamped)
                except MessageNotHandledException:
                    continue  # no rule is about this fact: nothing stored
                with contextlib.suppress(MessageNotHandledException):
                    host.retract_fact(self.name, stamped)
            recorded, errors = list(self._matches), list(self._errors)
        if errors:
            raise EngineFailure("a rule action failed: " + "; ".join(errors))
        out: list[Match] = []
        for rule_id, fact in recorded:
            for key in ("sid", "seq", "id"):
                fact.pop(key, None)
            out.append((self.rules[rule_id], fact))
        return out
