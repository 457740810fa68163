"""The rules' per-patient limits and payer budgets as CP-SAT constraints, shared by the plan and
the repair models (each placement they may choose is a `Use` with its literal).

One function per rule family, each naming the rule ids it enforces. What is already booked comes
from the Feasibility index, so a constraint is added only where the choices could break it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.candidates import Candidate
from solver.demand import Demand
from solver.feasibility import Feasibility
from solver.model import SAME_TYPE_PER_DAY, SameDayApart, UnitBudget


@dataclass(frozen=True)
class Use:
    """One placement a model may choose: its literal, who attends, what and when."""

    lit: cp_model.IntVar
    patients: tuple[str, ...]
    staff: tuple[str, ...]
    session_type: str
    start: int
    minutes: int
    group: bool = False


def uses_of(
    lits: list[cp_model.IntVar], candidates: Iterable[Candidate], demands: list[Demand]
) -> list[Use]:
    """Each candidate as a Use, its literal `lits[candidate.index]` (one way for every model)."""
    return [
        Use(
            lits[c.index],
            demands[c.demand].patients,
            c.staff,
            demands[c.demand].session_type,
            c.start,
            c.minutes,
            group=demands[c.demand].group is not None,
        )
        for c in candidates
    ]


def _cap(model: cp_model.CpModel, terms: list[tuple[int, cp_model.IntVar]], left: int) -> None:
    if sum(coef for coef, _ in terms) > left:
        model.Add(sum(coef * lit for coef, lit in terms) <= max(0, left))


def add_one_of_a_type_a_day(
    model: cp_model.CpModel, feas: Feasibility, uses: Iterable[Use]
) -> None:
    """The plan's convention: one session of each non-group type per patient a day."""
    per_day: dict[tuple[str, str, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    for use in uses:
        day = feas.problem.day_of(use.start)
        if use.group or day is None:
            continue
        for patient in use.patients:
            per_day[(patient, use.session_type, day.index)].append((1, use.lit))
    for key, terms in per_day.items():
        _cap(model, terms, SAME_TYPE_PER_DAY - feas.per_day.get(key, 0))


def add_daily_session_limits(
    model: cp_model.CpModel, feas: Feasibility, uses: Iterable[Use]
) -> None:
    """Sessions of a kind per patient and local day: one individual psychotherapy
    (OPS-ONE-INDIVIDUAL), one diagnostic evaluation (OPS-ONE-EVALUATION), one family session
    (OPS-FAMILY-SAME-DAY)."""
    _add_limits(model, feas, uses, per="day", minutes=False)


def add_daily_psychotherapy_cap(
    model: cp_model.CpModel, feas: Feasibility, uses: Iterable[Use]
) -> None:
    """Psychotherapy minutes per patient and local day, group meetings included
    (OPS-DAILY-PSYCHOTHERAPY-CAP)."""
    _add_limits(model, feas, uses, per="day", minutes=True)


def add_weekly_clinical_maximum(
    model: cp_model.CpModel, feas: Feasibility, uses: Iterable[Use]
) -> None:
    """Clinical minutes per patient and ISO week, at most the level of care's band
    (LOC-ABOVE-BAND), what is booked that week counted."""
    _add_limits(model, feas, uses, per="week", minutes=True)


def _add_limits(
    model: cp_model.CpModel, feas: Feasibility, uses: Iterable[Use], *, per: str, minutes: bool
) -> None:
    """The per-patient limits of one shape (`PatientLimit.per` and `.minutes`), booked counted."""
    terms: dict[tuple[int, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    limits = {}
    for use in uses:
        for patient in use.patients:
            for limit, bucket in feas.limits_touched(patient, use.session_type, use.start):
                if limit.per == per and limit.minutes == minutes:
                    limits[id(limit)] = limit
                    terms[(id(limit), bucket)].append((use.minutes if minutes else 1, use.lit))
    for (key, bucket), items in terms.items():
        _cap(model, items, feas.limit_left(limits[key], bucket))


def add_same_day_apart(model: cp_model.CpModel, feas: Feasibility, uses: Iterable[Use]) -> None:
    """No diagnostic evaluation and E/M visit for a patient with the same clinician on one local
    day (OPS-EVAL-EM-SAME-DAY): per patient, day and clinician, a chosen session of one kind
    rules out every session of the other, booked ones included."""
    sides: dict[tuple[int, str, int, str], tuple[list[cp_model.IntVar], list[cp_model.IntVar]]]
    sides = defaultdict(lambda: ([], []))
    rules: dict[int, SameDayApart] = {}
    for use in uses:
        day = feas.problem.day_of(use.start)
        if day is None:
            continue
        for patient in use.patients:
            for rule in feas.apart.get(patient, ()):
                side = 0 if use.session_type in rule.first else 1
                if side and use.session_type not in rule.second:
                    continue
                rules[id(rule)] = rule
                for staff in use.staff:
                    sides[(id(rule), patient, day.index, staff)][side].append(use.lit)
    for (key, patient, day, staff), (first, second) in sides.items():
        rule = rules[key]
        booked = feas.sessions_on_day.get((patient, day), ())
        for mine, other in ((first, rule.second), (second, rule.first)):
            if any(st in other and staff in by for st, by in booked):
                for lit in mine:
                    model.Add(lit == 0)
        for a in first:
            for b in second:
                model.AddBoolOr([a.Not(), b.Not()])


def add_minimum_lengths(model: cp_model.CpModel, feas: Feasibility, uses: Iterable[Use]) -> None:
    """No session shorter than its type may be booked for (COD-IOP-DAY: an IOP day billed as
    H0015 lasts at least 3 hours). Candidates already leave such sessions out (`Feasibility.
    too_short`); this keeps the model itself honest about the rule."""
    least = feas.problem.eligibility.min_minutes
    for use in uses:
        rule = least.get(use.session_type)
        if rule is not None and use.minutes < rule.minutes:
            model.Add(use.lit == 0)


def add_unit_budgets(
    model: cp_model.CpModel, feas: Feasibility, uses: Iterable[Use], totals: bool = True
) -> None:
    """Payer units left inside each authorization's dates (AUTH-UNITS), each member of a group
    paying from their own (AUTH-07). Dates outside every authorization (AUTH-DATE-SPAN) never
    become choices. `totals=False` for moves, which keep the units they hold."""
    if not totals:
        return
    uses = list(uses)
    for budget in feas.problem.eligibility.budgets:
        mine = [(1, u.lit) for u in _paid_by(budget, uses)]
        _cap(model, mine, budget.remaining - feas.budget_used(budget))


def add_weekly_unit_caps(model: cp_model.CpModel, feas: Feasibility, uses: Iterable[Use]) -> None:
    """Payer units per ISO week (AUTH-WEEK-CAP), what is booked that week counted."""
    uses = list(uses)
    for budget in feas.problem.eligibility.budgets:
        if budget.per_week is None:
            continue
        per_week: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for u in _paid_by(budget, uses):
            week = feas.problem.week_of(u.start)
            if week is not None:
                per_week[week].append((1, u.lit))
        for week, items in per_week.items():
            _cap(model, items, budget.per_week - feas.budget_week_use.get((id(budget), week), 0))


def _paid_by(budget: UnitBudget, uses: list[Use]) -> list[Use]:
    return [
        u
        for u in uses
        if budget.patient in u.patients
        and u.session_type in budget.session_types
        and budget.window[0] <= u.start < budget.window[1]
    ]


def add_rule_limits(
    model: cp_model.CpModel, feas: Feasibility, uses: Iterable[Use], totals: bool = True
) -> None:
    """Every limit above, in the order a planner reads them (plan and repair both call this)."""
    uses = list(uses)
    add_minimum_lengths(model, feas, uses)
    add_one_of_a_type_a_day(model, feas, uses)
    add_daily_session_limits(model, feas, uses)
    add_same_day_apart(model, feas, uses)
    add_daily_psychotherapy_cap(model, feas, uses)
    add_weekly_clinical_maximum(model, feas, uses)
    add_unit_budgets(model, feas, uses, totals)
    add_weekly_unit_caps(model, feas, uses)


def short_by_rule(after: Feasibility, demand: Demand) -> str | None:
    """Why a demand stays short when a rule refuses it whatever the time: its session type is
    too short to book (COD-IOP-DAY), or the patient's week is full (LOC-ABOVE-BAND,
    AUTH-WEEK-CAP); `after` counts the plan's sessions too."""
    kind = after.problem.session_types.get(demand.session_type)
    if kind is None:
        return None
    too_short = after.too_short(kind)
    if too_short is not None or demand.group is not None:
        return too_short
    patient, start = demand.patients[0], demand.window[0]
    for limit, week in after.limits_touched(patient, kind.id, start):
        if limit.per == "week" and after.limit_left(limit, week) < (
            kind.minutes if limit.minutes else 1
        ):
            return f"the week is full: {limit.words()}"
    return after.budget_refusal(patient, kind.id, start, totals=False)
