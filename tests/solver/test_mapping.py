"""The one mapping from the rules' answer (`constraints_for`) to the solver's eligibility: every
field of the answer is read by `derive_eligibility` or named in NOT_FOR_PLANS with the reason a
plan does not need it, and what it reads becomes a limit the solver enforces."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from assistant.problem_builder import NOT_FOR_PLANS, Clock, Scope, derive_eligibility
from rules import eligibility as answer

ANSWER_TYPES = (
    answer.Eligibility,
    answer.PatientRules,
    answer.StaffRules,
    answer.UnitBudget,
    answer.GroupRules,
    answer.Requirement,
    answer.MinimumLength,
)
TZ = ZoneInfo("America/New_York")
MONDAY = date(2026, 12, 7)
DAY = 24 * 60


class _Reads:
    """A read-only view of a frozen dataclass that records every field read through it."""

    def __init__(self, obj: Any, seen: set[str]) -> None:
        self._obj, self._seen = obj, seen

    def __getattr__(self, name: str) -> Any:
        self._seen.add(f"{type(self._obj).__name__}.{name}")
        return _watch(getattr(self._obj, name), self._seen)


def _watch(value: Any, seen: set[str]) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _Reads(value, seen)
    if isinstance(value, Mapping):
        return {k: _watch(v, seen) for k, v in value.items()}
    if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
        return tuple(_watch(v, seen) for v in value)
    return value


def _answer() -> answer.Eligibility:
    """A facility's answer with every kind of limit: an intern under the supervised-hours
    threshold, a court commitment, a level-of-care maximum, a daily psychotherapy cap, a payer
    with a weekly cap, a group with a size limit, an evaluation and an E/M visit that may not share
    a prescriber's day, and an IOP day with a minimum length."""
    weekdays = {d: ((8 * 60, 17 * 60),) for d in ("mon", "tue", "wed", "thu", "fri")}
    hearing = datetime(2026, 12, 8, 14, 0, tzinfo=UTC), datetime(2026, 12, 8, 17, 0, tzinfo=UTC)
    therapy = frozenset({"individual", "group"})
    return answer.Eligibility(
        period=(MONDAY, date(2026, 12, 13)),
        staff_for={("p1", "individual"): ("s1", "i1")},
        qualified={"individual": ("s1", "i1"), "group": ("s1", "i1")},
        blocked={("p1", "family"): "no staff member is qualified (STF-CREDENTIAL)"},
        max_per_day={"individual": 1},
        patients={
            "p1": answer.PatientRules(
                patient="p1",
                min_weekly_clinical_minutes=9 * 60,
                max_weekly_clinical_minutes=19 * 60,
                clinical_session_types=therapy,
                requirements=(
                    answer.Requirement("individual", 2, "court_order", "CRT-REQUIRED-CANCEL"),
                ),
                allowed_session_types=therapy,
                windows=weekdays,
                blocked=((*hearing, "a hearing"),),
                max_individual_per_day=1,
                max_psychotherapy_minutes_per_day=240,
                individual_session_types=frozenset({"individual"}),
                psychotherapy_session_types=therapy,
                max_evaluations_per_day=1,
                evaluation_session_types=frozenset({"psychiatric_evaluation"}),
                em_session_types=frozenset({"medication_management"}),
                max_family_per_day=1,
                family_session_types=frozenset({"family"}),
                intake_first_session_types=frozenset({"group", "family"}),
                assessed_from=datetime(2026, 12, 8, 15, 0, tzinfo=UTC),
            )
        },
        staff={
            "s1": answer.StaffRules("s1", therapy, weekdays),
            "i1": answer.StaffRules(
                "i1",
                therapy,
                {"mon": ((9 * 60, 12 * 60),)},
                supervisor="s1",
                needs_cofacilitator_outside_windows=True,
            ),
        },
        unit_budgets=(
            answer.UnitBudget(
                "p1", "A1", "Medicaid", frozenset({"individual"}), MONDAY, date(2026, 12, 31), 5, 1
            ),
        ),
        keep_apart=frozenset({frozenset({"p1", "p2"})}),
        groups={"g1": answer.GroupRules("g1", 2, 10, closed_to_new=True)},
        min_minutes={"iop_day": answer.MinimumLength("iop_day", 180, "COD-IOP-DAY", "IOP day")},
    )


def _scope() -> Scope:
    origin = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)  # local midnight, Monday
    dates = tuple(date(2026, 12, 7 + i) for i in range(5))
    return Scope(
        patients=frozenset({"p1", "p2"}),
        staff=frozenset({"s1", "i1"}),
        session_types=frozenset(
            {
                "individual",
                "group",
                "family",
                "iop_day",
                "psychiatric_evaluation",
                "medication_management",
            }
        ),
        dates=dates,
        clock=Clock(origin, TZ),
        horizon=(8 * 60, 4 * DAY + 17 * 60),
        away={"s1": ((DAY, 2 * DAY),)},  # the supervisor is away on Tuesday
    )


def test_every_field_of_the_rules_answer_is_mapped_or_named_as_not_for_plans() -> None:
    seen: set[str] = set()
    derive_eligibility(_watch(_answer(), seen), _scope())
    fields = {f"{t.__name__}.{f.name}" for t in ANSWER_TYPES for f in dataclasses.fields(t)}
    unaccounted = fields - seen - set(NOT_FOR_PLANS)
    assert not unaccounted, f"fields of the rules' answer nobody maps: {sorted(unaccounted)}"
    assert not seen & set(NOT_FOR_PLANS), "a field named as not for plans is read after all"
    assert set(NOT_FOR_PLANS) <= fields and all(why.strip() for why in NOT_FOR_PLANS.values())


def test_each_limit_of_the_answer_becomes_a_solver_limit() -> None:
    elig = derive_eligibility(_answer(), _scope()).eligibility
    limits = {limit.rule: limit for limit in elig.limits}
    assert limits["LOC-ABOVE-BAND"].per == "week" and limits["LOC-ABOVE-BAND"].most == 19 * 60
    assert limits["LOC-ABOVE-BAND"].minutes
    assert limits["OPS-DAILY-PSYCHOTHERAPY-CAP"].most == 240
    assert limits["OPS-ONE-INDIVIDUAL"].session_types == {"individual"}
    assert limits["OPS-FAMILY-SAME-DAY"].most == 1 and limits["OPS-FAMILY-SAME-DAY"].per == "day"
    assert limits["OPS-ONE-EVALUATION"].session_types == {"psychiatric_evaluation"}
    [apart] = elig.apart_same_day
    assert apart.rule == "OPS-EVAL-EM-SAME-DAY" and apart.patient == "p1"
    assert (apart.first, apart.second) == ({"psychiatric_evaluation"}, {"medication_management"})
    assert elig.min_minutes["iop_day"].minutes == 180
    assert elig.min_minutes["iop_day"].rule == "COD-IOP-DAY"
    assert elig.budgets[0].per_week == 1 and elig.budgets[0].remaining == 5
    assert elig.group_max == {"g1": 10}
    # The hearing (Tuesday 09:00-12:00 local) is cut out of the patient's time.
    hearing = (DAY + 9 * 60, DAY + 12 * 60)
    assert elig.windows["p1"].rule == "CRT-COMMITMENT"
    assert not any(a < hearing[1] and hearing[0] < b for a, b in elig.windows["p1"].allowed)
    # The intern alone: Monday 09:00-12:00 only (the supervisor's hours), lifted by a
    # co-facilitator.
    intern = elig.windows["i1"]
    assert intern.rule == "STF-INTERN-ONSITE" and intern.cofacilitated
    assert intern.allowed == ((9 * 60, 12 * 60),)
    assert "s1" not in elig.windows
    assert [r.patient for r in elig.requirements] == ["p1"]
    # The intake assessment is on Tuesday: no group before it, so none this week.
    assert "LOC-INTAKE-FIRST" in elig.blocked[("p1", "group")]
