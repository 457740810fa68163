"""The rules service: current packs, the compiled engine, and the two questions.

One service per process is the norm (`default_service()`): compiling packs registers a durable_rules
ruleset that is never freed, so build services rarely (at start-up and on reload), never per
request. `reload()` keeps the last good packs when the new ones are broken.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, date, tzinfo
from pathlib import Path

from sqlalchemy.orm import Session

from clinic.errors import InvalidInput
from rules import vocabulary as V
from rules.constraints import build_eligibility
from rules.decision import Decision, assemble
from rules.derive import derive
from rules.eligibility import Eligibility
from rules.engine import DurableRulesEngine, RuleEngine
from rules.facts import World, load_world
from rules.loader import PACKS_DIR, PackProblem, PackSet, collect, load_packs, rules_dir_from_env
from rules.model import (
    AppointmentFacts,
    GroupFacts,
    PatientFacts,
    SessionTypeFacts,
    Situation,
    StaffFacts,
)


class RulesService:
    def __init__(
        self,
        facility_dir: Path | None = None,
        *,
        builtin_dir: Path = PACKS_DIR,
        use_env: bool = True,
    ) -> None:
        self.facility_dir = facility_dir or (rules_dir_from_env() if use_env else None)
        self.builtin_dir = builtin_dir
        self._swap = threading.Lock()
        packs = load_packs(self.facility_dir, builtin_dir)
        self._packs, self._engine = packs, DurableRulesEngine(packs)
        self.last_problems: list[PackProblem] = []

    @property
    def packs(self) -> PackSet:
        return self._packs

    @property
    def engine(self) -> RuleEngine:
        return self._engine

    def reload(self) -> list[PackProblem]:
        """Re-read the packs. On problems, keep serving the last good packs and return them."""
        packs, problems = collect(self.facility_dir, self.builtin_dir)
        self.last_problems = problems
        if problems or packs is None:
            return problems
        engine = DurableRulesEngine(packs)
        with self._swap:
            self._packs, self._engine = packs, engine
        return []

    def evaluate(self, action: str, actor: StaffFacts, facts: Situation) -> Decision:
        """May `actor` do `action` in this situation? Every fired rule, with its reason."""
        if action not in V.ACTIONS:
            raise InvalidInput(f"unknown action {action!r}; use one of {', '.join(V.ACTIONS)}")
        with self._swap:
            packs, engine = self._packs, self._engine
        flat = derive(action, actor, facts, packs.tables)
        matches = engine.fire(flat)
        return assemble(
            action,
            matches,
            actor.roles,
            facts.override_reason,
            frozenset(packs.tables.get("override_roles", ())),
        )

    def constraints_for(
        self,
        patients: Iterable[PatientFacts],
        staff: Iterable[StaffFacts],
        period: tuple[date, date],
        *,
        session_types: Mapping[str, SessionTypeFacts],
        appointments: Iterable[AppointmentFacts] = (),
        groups: Iterable[GroupFacts] = (),
        tz: tzinfo = UTC,
    ) -> Eligibility:
        """What any plan of the period must respect (see `rules.eligibility`)."""
        with self._swap:
            packs = self._packs
        return build_eligibility(
            packs,
            patients,
            staff,
            period,
            session_types=session_types,
            appointments=appointments,
            groups=groups,
            tz=tz,
        )

    def constraints_from_db(self, session: Session, period: tuple[date, date]) -> Eligibility:
        """`constraints_for` every patient and staff member of the facility in the database."""
        return self.constraints_from_world(load_world(session, self._packs, period), period)

    def constraints_from_world(self, world: World, period: tuple[date, date]) -> Eligibility:
        """`constraints_for` everyone in `world` (`rules.facts.load_world`)."""
        return self.constraints_for(
            world.patients,
            world.staff,
            period,
            session_types=world.session_types,
            appointments=world.appointments,
            groups=world.groups,
            tz=world.tz,
        )


_DEFAULT: RulesService | None = None
_DEFAULT_LOCK = threading.Lock()


def default_service() -> RulesService:
    """The process-wide service (built on first use from the built-in packs + ROTA_RULES_DIR)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = RulesService()
        return _DEFAULT


def evaluate(action: str, actor: StaffFacts, facts: Situation) -> Decision:
    return default_service().evaluate(action, actor, facts)
