"""`constraints_for`: what any plan must respect, from the same packs `evaluate` uses.

It answers for a whole facility at once, so it is plain Python over the packs' tables and
parameters (the engine would take one decision per patient x session type x clinician); the
helpers it calls (`qualifies`, `category_of`, `band_for`) are the ones the derived facts use, so
the two questions cannot disagree. A rule a facility disables stops constraining plans too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from clinic.models import ACTIVE_STATUSES
from clinic.timeutil import Weekly, intersect_weekly
from rules.derive import band_for, category_of, qualifies
from rules.eligibility import (
    Eligibility,
    GroupRules,
    MinimumLength,
    PatientRules,
    Requirement,
    StaffRules,
    UnitBudget,
    Windows,
    missing_needs,
)
from rules.loader import PackSet
from rules.model import (
    AppointmentFacts,
    GroupFacts,
    PatientFacts,
    SessionTypeFacts,
    StaffFacts,
)
from rules.units import ledger


class _Params:
    def __init__(self, packs: PackSet) -> None:
        self.packs = packs

    def get(self, rule_id: str, name: str | None = None) -> Any:
        """The parameter of an enabled rule; True for an enabled rule without `name`; else None."""
        rule = self.packs.rule(rule_id)
        if rule is None or not rule.enabled:
            return None
        return True if name is None else rule.params.get(name)


def build_eligibility(
    packs: PackSet,
    patients: Iterable[PatientFacts],
    staff: Iterable[StaffFacts],
    period: tuple[date, date],
    *,
    session_types: Mapping[str, SessionTypeFacts],
    appointments: Iterable[AppointmentFacts] = (),
    groups: Iterable[GroupFacts] = (),
    tz: tzinfo = UTC,
) -> Eligibility:
    t, p = packs.tables, _Params(packs)
    patients, staff = list(patients), list(staff)
    cats = {st: category_of(st, session_types, t) for st in session_types}
    names = t.get("category_names", {})

    # Who is qualified for each session type, patient aside (STF-CREDENTIAL).
    check_credentials = p.get("STF-CREDENTIAL")
    qualified: dict[str, tuple[str, ...]] = {
        st: tuple(s.id for s in staff if not check_credentials or qualifies(s, stype, cats[st], t))
        for st, stype in session_types.items()
    }
    by_id = {s.id: s for s in staff}
    needs_cats = frozenset(t.get("needs_categories", ())) if p.get("STF-NEEDS") else frozenset()
    phase_table = t.get("phase_categories", {}) if p.get("LOC-PHASE-SESSION") else {}
    fit_cache: dict[tuple[str, frozenset[str]], tuple[str, ...]] = {}
    check_coverage = p.get("AUTH-NOT-COVERED")
    auth_exempt = frozenset(t.get("auth_exempt_categories", ()))

    staff_for: dict[tuple[str, str], tuple[str, ...]] = {}
    blocked: dict[tuple[str, str], str] = {}
    for patient in patients:
        allowed_cats = phase_table.get(patient.phase) if patient.phase else None
        for st in session_types:
            cat = cats[st]
            key = (patient.id, st)
            if allowed_cats is not None and cat not in allowed_cats:
                blocked[key] = (
                    f"{patient.id} is in the {patient.phase} phase, which does not include "
                    f"{names.get(cat, st)} (LOC-PHASE-SESSION)"
                )
                continue
            if (
                check_coverage
                and patient.authorizations
                and cat not in auth_exempt
                and not any(st in a.session_types for a in patient.authorizations)
            ):
                blocked[key] = (
                    f"none of {patient.id}'s authorizations covers {names.get(cat, st)} "
                    "(AUTH-NOT-COVERED)"
                )
                continue
            pool = qualified[st]
            if cat in needs_cats and patient.needs:
                cache_key = (st, patient.needs)
                if cache_key not in fit_cache:
                    fit_cache[cache_key] = tuple(
                        sid
                        for sid in pool
                        if not missing_needs(patient.needs, by_id[sid].specializations)
                    )
                if pool and not fit_cache[cache_key]:
                    wanted = ", ".join(sorted(n.replace("_", " ") for n in patient.needs))
                    blocked[key] = f"no clinician who may provide {st} has {wanted} (STF-NEEDS)"
                pool = fit_cache[cache_key]
            if not pool:
                blocked.setdefault(
                    key, f"no staff member is qualified to provide {st} (STF-CREDENTIAL)"
                )
                continue
            primary = patient.primary_clinician
            if primary in pool and pool[0] != primary:
                pool = (primary, *(sid for sid in pool if sid != primary))
            staff_for[key] = pool

    individual = frozenset(st for st, c in cats.items() if c == "individual_psychotherapy")
    psychotherapy = frozenset(
        st for st, c in cats.items() if c in t.get("psychotherapy_categories", ())
    )
    clinical = frozenset(st for st, c in cats.items() if c in t.get("clinical_categories", ()))
    kinds = _SessionKinds(
        individual=individual,
        psychotherapy=psychotherapy,
        clinical=clinical,
        evaluation=frozenset(
            st for st, c in cats.items() if c in t.get("evaluation_categories", ())
        ),
        family=frozenset(st for st, c in cats.items() if c == "family"),
        em=frozenset(st for st, c in cats.items() if c in t.get("em_categories", ())),
        # LOC-INTAKE-FIRST's condition names these two categories.
        after_intake=frozenset(
            st for st, c in cats.items() if c in ("group_psychotherapy", "family")
        ),
    )
    assessments: dict[str, datetime] = {}
    for a in appointments:
        if a.status in ACTIVE_STATUSES and cats.get(a.session_type) == "assessment":
            for pid in a.patients:
                assessments[pid] = min(a.start, assessments.get(pid, a.start))
    per_day = p.get("OPS-ONE-INDIVIDUAL", "max_per_day")
    max_per_day = {st: int(per_day) for st in individual} if per_day is not None else {}

    return Eligibility(
        period=period,
        staff_for=staff_for,
        qualified=qualified,
        blocked=blocked,
        max_per_day=max_per_day,
        patients={
            x.id: _patient_rules(x, p, t, period, session_types, cats, kinds, assessments.get(x.id))
            for x in patients
        },
        staff={s.id: _staff_rules(s, by_id, p, session_types, qualified) for s in staff},
        unit_budgets=_budgets(patients, appointments, t, tz),
        keep_apart=packs.data.keep_apart if p.get("GRP-KEEP-APART") else frozenset(),
        groups={g.id: _group_rules(g, p, cats) for g in groups},
        min_minutes=_min_minutes(p, cats, names),
    )


def _min_minutes(
    p: _Params, cats: Mapping[str, str], names: Mapping[str, str]
) -> dict[str, MinimumLength]:
    """COD-IOP-DAY: every session type billed as an IOP day (its condition names the category)
    is booked for at least the rule's minimum."""
    least = p.get("COD-IOP-DAY", "min_minutes")
    if least is None:
        return {}
    what = names.get("iop_day", "IOP day")
    return {
        st: MinimumLength(st, int(least), "COD-IOP-DAY", what)
        for st, c in cats.items()
        if c == "iop_day"
    }


def _windows(weekly: Weekly | None) -> Windows | None:
    if weekly is None:
        return None
    return {day: tuple((iv.start, iv.end) for iv in spans) for day, spans in weekly.items()}


@dataclass(frozen=True)
class _SessionKinds:
    """The facility's session types by what the per-day and per-week rules count."""

    individual: frozenset[str]
    psychotherapy: frozenset[str]
    clinical: frozenset[str]
    evaluation: frozenset[str]
    family: frozenset[str]
    em: frozenset[str]
    after_intake: frozenset[str]


def _patient_rules(
    x: PatientFacts,
    p: _Params,
    t: Mapping[str, Any],
    period: tuple[date, date],
    session_types: Mapping[str, SessionTypeFacts],
    cats: Mapping[str, str],
    kinds: _SessionKinds,
    assessed_from: datetime | None,
) -> PatientRules:
    low = high = None
    band = band_for(x, t) if (p.get("LOC-ABOVE-BAND") or p.get("LOC-WEEK-UNDER")) else None
    if band:
        if "min_hours" in band:
            low = round(float(band["min_hours"]) * 60)
        if "max_hours" in band:
            high = round(float(band["max_hours"]) * 60)
        elif "below_hours" in band:
            high = round(float(band["below_hours"]) * 60) - 1
    requirements = [Requirement(st, n, source, None) for st, n, source in x.requirements if n > 0]
    order = x.court_order
    if order is not None and order.start <= period[1] and order.end >= period[0]:
        requirements += [
            Requirement(st, n, "court_order", "CRT-REQUIRED-CANCEL")
            for st, n in order.requirements.items()
        ]
    phases = t.get("phase_categories", {}) if p.get("LOC-PHASE-SESSION") else {}
    allowed_cats = phases.get(x.phase) if x.phase else None
    allowed = frozenset(
        st for st in session_types if allowed_cats is None or cats[st] in allowed_cats
    )
    lo = datetime.combine(period[0], time(0), tzinfo=UTC)
    hi = datetime.combine(period[1], time(0), tzinfo=UTC)
    blocked = (
        tuple((c.start, c.end, c.what) for c in x.commitments if c.start < hi and c.end > lo)
        if p.get("CRT-COMMITMENT")
        else ()
    )
    cap = p.get("OPS-DAILY-PSYCHOTHERAPY-CAP", "max_minutes")
    per_day = p.get("OPS-ONE-INDIVIDUAL", "max_per_day")
    return PatientRules(
        patient=x.id,
        min_weekly_clinical_minutes=low,
        max_weekly_clinical_minutes=high,
        clinical_session_types=kinds.clinical,
        requirements=tuple(requirements),
        allowed_session_types=allowed,
        windows=_windows(x.availability),
        blocked=blocked,
        max_individual_per_day=int(per_day) if per_day is not None else None,
        max_psychotherapy_minutes_per_day=int(cap) if cap is not None else None,
        individual_session_types=kinds.individual,
        psychotherapy_session_types=kinds.psychotherapy,
        max_evaluations_per_day=1 if p.get("OPS-ONE-EVALUATION") else None,
        evaluation_session_types=kinds.evaluation,
        max_family_per_day=1 if p.get("OPS-FAMILY-SAME-DAY") else None,
        family_session_types=kinds.family,
        em_session_types=kinds.em if p.get("OPS-EVAL-EM-SAME-DAY") else frozenset(),
        intake_first_session_types=(
            kinds.after_intake if p.get("LOC-INTAKE-FIRST") and x.phase == "intake" else frozenset()
        ),
        assessed_from=assessed_from,
    )


def _intersect(a: Windows | None, b: Windows | None) -> Windows | None:
    if a is None:
        return b
    if b is None:
        return a
    return intersect_weekly(a, b)


def _staff_rules(
    s: StaffFacts,
    by_id: Mapping[str, StaffFacts],
    p: _Params,
    session_types: Mapping[str, SessionTypeFacts],
    qualified: Mapping[str, tuple[str, ...]],
) -> StaffRules:
    mine = frozenset(st for st in session_types if s.id in qualified[st])
    if s.role != "intern":
        return StaffRules(staff=s.id, session_types=mine, windows=_windows(s.availability))
    threshold = p.get("STF-INTERN-ONSITE", "onsite_below_hours")
    supervisor = by_id.get(s.supervisor) if s.supervisor else None
    if supervisor is None and p.get("STF-INTERN-NO-SUPERVISOR"):
        # Never alone: only next to a qualified co-facilitator.
        return StaffRules(s.id, mine, {}, None, needs_cofacilitator_outside_windows=True)
    if threshold is not None and (s.supervised_hours or 0) < int(threshold):
        own = _windows(s.availability)
        windows = _intersect(own, _windows(supervisor.availability)) if supervisor else {}
        if supervisor is not None and windows is None:
            windows = None  # both work whenever the facility is open
        return StaffRules(
            s.id, mine, windows, s.supervisor, needs_cofacilitator_outside_windows=True
        )
    return StaffRules(s.id, mine, _windows(s.availability), s.supervisor)


def _budgets(
    patients: list[PatientFacts],
    appointments: Iterable[AppointmentFacts],
    tables: Mapping[str, Any],
    tz: tzinfo,
) -> tuple[UnitBudget, ...]:
    """AUTH-03: the units left on every authorization (`rules.units.ledger`, net of what is
    used and booked): one outside the period still says that its types need a payer's
    authorization (AUTH-DATE-SPAN)."""
    history: dict[str, list[AppointmentFacts]] = defaultdict(list)
    for a in appointments:
        for pid in a.patients:
            history[pid].append(a.for_patient(pid))
    return tuple(
        UnitBudget(
            patient=x.id,
            authorization=auth.id,
            payer=auth.payer,
            session_types=auth.session_types,
            start=auth.start,
            end=auth.end,
            units_left=max(0, ledger(auth, history.get(x.id, ()), tz, tables).left),
            max_per_week=auth.max_units_per_week,
        )
        for x in patients
        for auth in x.authorizations
    )


def _group_rules(g: GroupFacts, p: _Params, cats: Mapping[str, str]) -> GroupRules:
    is_group = cats.get(g.session_type) == "group_psychotherapy"
    low = p.get("GRP-MIN-SIZE", "min_members") if is_group else None
    high = p.get("GRP-MAX-SIZE", "max_members") if is_group else None
    if g.capacity and p.get("GRP-CAPACITY"):
        high = min(int(high), g.capacity) if high is not None else g.capacity
    join = p.get("GRP-CLOSED-COHORT", "max_join_session")
    closed = bool(g.closed and join is not None and g.sessions_held_before >= int(join))
    return GroupRules(
        group=g.id,
        min_members=int(low) if low is not None else None,
        max_members=int(high) if high is not None else None,
        closed_to_new=closed,
    )
