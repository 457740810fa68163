"""Derived facts: turn a `Situation` into the flat facts rule conditions compare.

One fact (a flat dict) per subject: the actor, the appointment, each patient, each staff member,
a disclosure. Numbers a condition needs ("units_remaining_after", "weekly_clinical_hours_after",
"same_day_individual_count") are computed here in Python; packs compare them against their
parameters. Keys whose value is None are left out, so a condition on them simply does not match
(durable_rules never matches a comparison against an absent field).

Pure functions of plain data: the solver-facing `constraints_for` reuses the same helpers
(`category_of`, `qualifies`, `band_for`) so both questions answer from one definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from clinic.models import ACTIVE_STATUSES
from clinic.timeutil import business_days_between, within_weekly
from rules import vocabulary as V
from rules.eligibility import missing_needs
from rules.model import (
    AppointmentFacts,
    AuthorizationFacts,
    GroupFacts,
    PatientFacts,
    SessionTypeFacts,
    Situation,
    StaffFacts,
)
from rules.units import ledger

Fact = dict[str, Any]
Tables = Mapping[str, Any]

_CHANGES_TIME = ("book", "move", "enroll")


# ---------------------------------------------------------------- shared helpers (also solver side)


def category_of(session_type: str, types: Mapping[str, SessionTypeFacts], tables: Tables) -> str:
    """The clinical category of a session type: its billing code first, then its id."""
    st = types.get(session_type)
    if st is not None and st.cpt:
        by_code = tables.get("cpt_categories", {}).get(st.cpt)
        if by_code:
            return str(by_code)
    return str(tables.get("session_categories", {}).get(session_type, session_type))


def qualifies(
    staff: StaffFacts, session_type: SessionTypeFacts | None, category: str, tables: Tables
) -> bool:
    """May this person deliver this session? The facility's own catalogue entry (staff_roles,
    credentials_any) wins; otherwise the credentials pack's matrix for the category (STF-04).
    The role must be listed (when roles are listed) and a credential must match (when
    credentials are listed). Interns, who hold no licence yet, qualify where interns are allowed,
    always under supervision (STF-05)."""
    if session_type is not None and (session_type.staff_roles or session_type.credentials_any):
        roles, creds = session_type.staff_roles, session_type.credentials_any
        interns = "intern" in roles
    else:
        row = tables.get("credential_matrix", {}).get(category)
        if row is None:
            return True  # the matrix says nothing about this category: anyone may
        roles = frozenset(row.get("roles", ()))
        creds = frozenset(row.get("credentials", ()))
        interns = bool(row.get("interns", False))
    if staff.role == "intern":
        return interns
    role_ok = not roles or bool(staff.roles & roles)
    return role_ok and (not creds or bool(staff.credentials & expand_credentials(creds, tables)))


def expand_credentials(names: Iterable[str], tables: Tables) -> frozenset[str]:
    """Credentials, with any credential group (`credential_groups`) replaced by its members."""
    groups = tables.get("credential_groups", {})
    return frozenset(c for n in names for c in groups.get(n, (n,)))


def required_text(session_type: SessionTypeFacts | None, category: str, tables: Tables) -> str:
    if session_type is not None and (session_type.staff_roles or session_type.credentials_any):
        roles, creds = session_type.staff_roles, session_type.credentials_any
    else:
        row = tables.get("credential_matrix", {}).get(category, {})
        roles, creds = frozenset(row.get("roles", ())), frozenset(row.get("credentials", ()))
    parts = []
    if roles:
        parts.append("a " + ", ".join(sorted(r.replace("_", " ") for r in roles)))
    if creds:
        parts.append("holding one of " + ", ".join(sorted(expand_credentials(creds, tables))))
    return " ".join(parts) or "no particular credential"


def age_group(age: int | None, tables: Tables) -> str:
    limit = int(tables.get("adolescent_under_age", 18))
    return "adolescent" if age is not None and age < limit else "adult"


def band_for(patient: PatientFacts, tables: Tables) -> dict[str, float] | None:
    """The weekly clinical-hour band of the patient's level of care (LOC-02..06), or None."""
    if not patient.level_of_care:
        return None
    by_age = tables.get("loc_bands", {}).get(patient.level_of_care)
    if not by_age:
        return None
    band = by_age.get(age_group(patient.age, tables)) or by_age.get("adult")
    return dict(band) if band else None


def band_position(hours: float, band: Mapping[str, float]) -> str:
    if "min_hours" in band and hours < float(band["min_hours"]):
        return "below"
    if "max_hours" in band and hours > float(band["max_hours"]):
        return "above"
    if "below_hours" in band and hours >= float(band["below_hours"]):
        return "above"
    return "within"


def band_text(band: Mapping[str, float]) -> str:
    low = band.get("min_hours")
    if "max_hours" in band:
        return f"{_num(low or 0)}-{_num(band['max_hours'])} h a week"
    if "below_hours" in band:
        return f"under {_num(band['below_hours'])} h a week"
    return f"at least {_num(low or 0)} h a week"


def _num(value: float) -> str:
    return f"{value:g}"


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def role_scope(roles: Iterable[str], action: str, tables: Tables) -> str | None:
    """The widest scope any of the roles has for the action: 'all', 'own_caseload' or None."""
    best: str | None = None
    table = tables.get("roles", {})
    for role in roles:
        scope = (table.get(role) or {}).get("actions", {}).get(action)
        if scope == "all":
            return "all"
        if scope:
            best = str(scope)
    return best


# ---------------------------------------------------------------- the derivation


class _Context:
    """Per-decision lookups computed once (local dates, categories)."""

    def __init__(self, action: str, actor: StaffFacts, s: Situation, tables: Tables) -> None:
        self.action, self.actor, self.s, self.t, self.tz = action, actor, s, tables, s.tz
        self._cat: dict[str, str] = {}
        self.clinical = frozenset(tables.get("clinical_categories", ()))
        self.psychotherapy = frozenset(tables.get("psychotherapy_categories", ()))
        self.evaluations = frozenset(tables.get("evaluation_categories", ()))
        self.em = frozenset(tables.get("em_categories", ()))

    def category(self, session_type: str) -> str:
        cat = self._cat.get(session_type)
        if cat is None:
            cat = self._cat[session_type] = category_of(session_type, self.s.session_types, self.t)
        return cat

    def local_date(self, when: datetime) -> date:
        return when.astimezone(self.tz).date()

    def patient_appointments(self, patient: str) -> list[AppointmentFacts]:
        """The patient's other appointments that hold their time."""
        return [a for a in self.patient_history(patient) if a.status in ACTIVE_STATUSES]

    def patient_history(self, patient: str) -> list[AppointmentFacts]:
        """Every other appointment of the patient the facts were given (held ones too)."""
        return [a.for_patient(patient) for a in self.s.existing if patient in a.patients]


def derive(action: str, actor: StaffFacts, situation: Situation, tables: Tables) -> list[Fact]:
    """All facts for one decision; see `rules.vocabulary.FACTS` for each subject's keys."""
    ctx = _Context(action, actor, situation, tables)
    base = _base(ctx)
    facts: list[Fact] = [_actor_fact(ctx, base)]
    appt = situation.appointment
    if appt is not None and action in (*_CHANGES_TIME, "cancel", "set_status"):
        facts.append(_appointment_fact(ctx, base, appt))
        for pid in appt.patients:
            if pid in situation.patients:
                facts.append(_patient_fact(ctx, base, situation.patients[pid], appt))
        if action in _CHANGES_TIME:
            for sid in appt.staff:
                if sid in situation.staff:
                    facts.append(_staff_fact(ctx, base, situation.staff[sid], appt))
    elif situation.subject_patient and situation.subject_patient in situation.patients:
        patient = situation.patients[situation.subject_patient]
        group = situation.groups.get(situation.subject_group or "")
        if action == "enroll" and group is not None:
            facts.append(_enrollment_fact(ctx, base, group, patient.id))
        facts.append(_patient_fact(ctx, base, patient, appt))
    if situation.disclosure is not None:
        facts.append(_disclosure_fact(ctx, base))
    return [{k: v for k, v in f.items() if v is not None} for f in facts]


def _base(ctx: _Context) -> Fact:
    s, appt = ctx.s, ctx.s.appointment
    base: Fact = {
        "action": ctx.action,
        "actor": ctx.actor.id,
        "actor_role": ", ".join(sorted(r.replace("_", " ") for r in ctx.actor.roles)),
        "action_words": V.ACTIONS.get(ctx.action, ctx.action),
        "override_requested": bool(s.override_reason and s.override_reason.strip()),
        "new_status": s.new_status,
    }
    if appt is not None:
        local = appt.start.astimezone(ctx.tz)
        cat = ctx.category(appt.session_type)
        names = ctx.t.get("category_names", {})
        base.update(
            session_type=appt.session_type,
            session_name=names.get(cat, appt.session_type.replace("_", " ")),
            category=cat,
            cpt=(s.session_types.get(appt.session_type) or _NO_TYPE).cpt,
            minutes=appt.minutes,
            date=local.date().isoformat(),
            time=local.strftime("%H:%M"),
            weekday=local.strftime("%a").lower(),
            week=iso_week(local.date()),
            group=appt.group,
        )
    elif s.subject_group:
        base["group"] = s.subject_group
    return base


_NO_TYPE = SessionTypeFacts(id="", minutes=0)


def _involved_patients(s: Situation) -> list[str]:
    pids: list[str] = list(s.appointment.patients) if s.appointment else []
    for extra in (s.subject_patient, s.disclosure.patient if s.disclosure else None):
        if extra and extra not in pids:
            pids.append(extra)
    return pids


def _relation(ctx: _Context) -> tuple[str, str | None]:
    """own / other / none, and the first patient who is not on the actor's caseload."""
    s, actor = ctx.s, ctx.actor
    pids = _involved_patients(s)
    if not pids:
        return "none", None
    if s.appointment is not None and actor.id in s.appointment.staff:
        return "own", None
    if s.before is not None and actor.id in s.before.staff:
        return "own", None
    supervised = {st.id for st in s.staff.values() if st.supervisor == actor.id}
    for pid in pids:
        p = s.patients.get(pid)
        if p is None:
            return "other", pid
        if p.primary_clinician in ({actor.id} | supervised):
            continue
        if p.court_order is not None and p.court_order.liaison == actor.id:
            continue  # the court liaison follows the patient's court-ordered care
        if any(actor.id in g.facilitators for g in s.groups.values() if pid in g.members):
            continue
        if any(actor.id in a.staff for a in s.existing if pid in a.patients):
            continue
        return "other", pid
    return "own", None


def _actor_fact(ctx: _Context, base: Fact) -> Fact:
    roles = ctx.actor.roles
    scope = role_scope(roles, ctx.action, ctx.t)
    override_roles = frozenset(ctx.t.get("override_roles", ()))
    relation, stranger = _relation(ctx)
    pids = _involved_patients(ctx.s)
    return {
        **base,
        "subject": "actor",
        "role_may": scope is not None,
        "scope": scope,
        "relation": relation,
        "on_session": _on_session(ctx),
        "patient": stranger or (pids[0] if pids else None),
        "may_override": bool(roles & override_roles) or _is_liaison(ctx, pids),
    }


def _on_session(ctx: _Context) -> bool | None:
    """Whether the actor is one of the session's staff (None when no session is concerned):
    attendance is recorded by whoever held the session, not by anyone with the patient."""
    s = ctx.s
    if s.appointment is None:
        return None
    before = s.before.staff if s.before is not None else ()
    return ctx.actor.id in s.appointment.staff or ctx.actor.id in before


def _is_liaison(ctx: _Context, pids: list[str]) -> bool:
    """Court liaisons may override the court rules that name them (CRT-REQUIRED-CANCEL)."""
    for pid in pids:
        p = ctx.s.patients.get(pid)
        if p is not None and p.court_order is not None and p.court_order.liaison == ctx.actor.id:
            return True
    return False


def _appointment_fact(ctx: _Context, base: Fact, appt: AppointmentFacts) -> Fact:
    group = ctx.s.groups.get(appt.group) if appt.group else None
    capacity = group.capacity if group else None
    return {
        **base,
        "subject": "appointment",
        "patient_count": len(appt.patients),
        "staff_count": len(appt.staff),
        "group_capacity": capacity,
        "members_over_capacity": max(0, len(appt.patients) - capacity) if capacity else None,
    }


def _enrollment_fact(ctx: _Context, base: Fact, group: GroupFacts, patient: str) -> Fact:
    """Adding a member to a standing group: the group's size after the change."""
    count = len(group.members | {patient})
    cat = ctx.category(group.session_type)
    return {
        **base,
        "subject": "appointment",
        "session_type": group.session_type,
        "category": cat,
        "group": group.id,
        "patient_count": count,
        "group_capacity": group.capacity,
        "members_over_capacity": max(0, count - group.capacity) if group.capacity else None,
    }


def _clinical_minutes(ctx: _Context, appts: Iterable[AppointmentFacts]) -> int:
    return sum(a.minutes for a in appts if ctx.category(a.session_type) in ctx.clinical)


def _patient_fact(
    ctx: _Context, base: Fact, p: PatientFacts, appt: AppointmentFacts | None
) -> Fact:
    s, t = ctx.s, ctx.t
    fact: Fact = {
        **base,
        "subject": "patient",
        "patient": p.id,
        "age": p.age,
        "age_group": age_group(p.age, t),
        "level_of_care": p.level_of_care,
        "level_name": t.get("loc_names", {}).get(p.level_of_care) if p.level_of_care else None,
        "phase": p.phase,
        "needs_dual_diagnosis": "dual_diagnosis" in p.needs,
        "program_capability": s.program_capability,
        "in_withdrawal_management": p.phase == "withdrawal_management"
        or bool(p.level_of_care and p.level_of_care.endswith("-WM")),
        "discharged": p.phase == "discharged",
    }
    mine = ctx.patient_appointments(p.id)
    adds = appt is not None and ctx.action in _CHANGES_TIME
    if appt is not None:
        day = ctx.local_date(appt.start)
        cat = ctx.category(appt.session_type)
        _phase(ctx, fact, p, cat)
        _authorization(ctx, fact, p, appt, day, adds)
        _week(ctx, fact, p, appt, day, mine, adds)
        _same_day(ctx, fact, appt, day, cat, mine, adds)
        _sequence(ctx, fact, p, appt, day, cat, mine)
        _court(ctx, fact, p, appt, day, mine, adds)
        _group(ctx, fact, p, appt.group, appt)
        if cat == "family":
            fact["family_consent"] = _family_consent(p, t)
        if adds:
            clash = next(
                (c for c in p.commitments if c.start < appt.end and appt.start < c.end), None
            )
            fact["commitment_conflict"] = clash is not None
            fact["commitment_what"] = clash.what if clash else None
    else:
        day = s.week_of or ctx.local_date(s.now)
        _week(ctx, fact, p, None, day, mine, False)
        if s.subject_group:
            _group(ctx, fact, p, s.subject_group, None)
    if ctx.action == "send_court_report" and s.disclosure is not None:
        fact["court_consent"] = _consented(
            p, s.disclosure.recipient, s.disclosure.recipient_name, t
        )
        fact["content"] = s.disclosure.content
        fact["report_to"] = p.court_order.report_to if p.court_order else None
    return fact


def _phase(ctx: _Context, fact: Fact, p: PatientFacts, cat: str) -> None:
    allowed = ctx.t.get("phase_categories", {}).get(p.phase) if p.phase else None
    if allowed is not None:
        fact["phase_allows_session"] = cat in allowed


def _authorization(
    ctx: _Context,
    fact: Fact,
    p: PatientFacts,
    appt: AppointmentFacts,
    day: date,
    adds: bool,
) -> None:
    """AUTH-01..07: which authorization pays, and what is left once this change is made."""
    cat = ctx.category(appt.session_type)
    if not p.authorizations or cat in ctx.t.get("auth_exempt_categories", ()):
        fact["auth_status"] = "not_required"
        return
    covering = [a for a in p.authorizations if appt.session_type in a.session_types]
    if not covering:
        fact["auth_status"] = "not_covered"
        return
    in_span = [a for a in covering if a.start <= day <= a.end]
    if not in_span:
        nearest = min(
            covering, key=lambda a: min(abs((a.start - day).days), abs((a.end - day).days))
        )
        fact.update(auth_status="outside_span", **_auth_ids(nearest))
        return

    history, this = ctx.patient_history(p.id), 1 if adds else 0
    units = {a.id: ledger(a, history, ctx.tz, ctx.t) for a in in_span}
    auth = max(in_span, key=lambda a: (units[a.id].left, -a.end.toordinal()))
    fact.update(
        auth_status="covered",
        **_auth_ids(auth),
        units_used=units[auth.id].used,
        units_scheduled=units[auth.id].booked,
        units_remaining_after=units[auth.id].left - this,
        auth_business_days_left=business_days_between(day, auth.end),
    )
    if auth.max_units_per_week is not None:
        lo, hi = week_bounds(day)
        week = ledger(auth, history, ctx.tz, ctx.t, days=(lo, hi - timedelta(days=1)))
        fact["max_units_per_week"] = auth.max_units_per_week
        fact["week_units_remaining_after"] = (
            auth.max_units_per_week - week.used - week.booked - this
        )


def _auth_ids(a: AuthorizationFacts) -> Fact:
    return {
        "auth_id": a.id,
        "payer": a.payer,
        "auth_start": a.start.isoformat(),
        "auth_end": a.end.isoformat(),
        "units_authorized": a.units,
    }


def _week(
    ctx: _Context,
    fact: Fact,
    p: PatientFacts,
    appt: AppointmentFacts | None,
    day: date,
    mine: list[AppointmentFacts],
    adds: bool,
) -> None:
    """LOC-12: clinical hours in the appointment's ISO week, before and after the change."""
    lo, hi = week_bounds(day)
    in_week = [a for a in mine if lo <= ctx.local_date(a.start) < hi]
    others = _clinical_minutes(ctx, in_week)
    own = _clinical_minutes(ctx, [appt]) if appt is not None else 0
    if appt is None or ctx.action in ("review_week", "set_status"):
        before = after = others + own
    elif ctx.action == "cancel":
        before, after = others + own, others
    elif ctx.action == "move" and ctx.s.before is not None:
        was = ctx.s.before
        was_here = lo <= ctx.local_date(was.start) < hi
        before = others + (_clinical_minutes(ctx, [was]) if was_here else 0)
        after = others + own
    else:
        before, after = others, others + own
    fact["weekly_clinical_hours_before"] = round(before / 60, 2)
    fact["weekly_clinical_hours_after"] = round(after / 60, 2)
    fact["week"] = fact.get("week") or iso_week(day)
    band = band_for(p, ctx.t)
    if band is not None:
        fact["loc_band"] = band_position(after / 60, band)
        fact["band_text"] = band_text(band)


def _same_day(
    ctx: _Context,
    fact: Fact,
    appt: AppointmentFacts,
    day: date,
    cat: str,
    mine: list[AppointmentFacts],
    adds: bool,
) -> None:
    """OPS-06 / COD-01 / COD-14: what else the patient has that local day."""
    if not adds:
        return
    today = [a for a in mine if ctx.local_date(a.start) == day]
    cats = [(a, ctx.category(a.session_type)) for a in today]
    fact["same_day_individual_count"] = sum(1 for _, c in cats if c == "individual_psychotherapy")
    fact["same_day_family_count"] = sum(1 for _, c in cats if c == "family")
    fact["same_day_evaluation_count"] = sum(1 for _, c in cats if c in ctx.evaluations)
    if cat in ctx.psychotherapy:
        fact["same_day_psychotherapy_minutes_after"] = appt.minutes + sum(
            a.minutes for a, c in cats if c in ctx.psychotherapy
        )
    staff = set(appt.staff)
    if cat in ctx.evaluations:
        pair = any(c in ctx.em and staff & set(a.staff) for a, c in cats)
    elif cat in ctx.em:
        pair = any(c in ctx.evaluations and staff & set(a.staff) for a, c in cats)
    else:
        pair = False
    fact["same_day_eval_em_same_prescriber"] = pair


def _sequence(
    ctx: _Context,
    fact: Fact,
    p: PatientFacts,
    appt: AppointmentFacts,
    day: date,
    cat: str,
    mine: list[AppointmentFacts],
) -> None:
    """Treatment sequencing: intake assessment first; early medical evaluation in WM."""
    assessed = any(
        ctx.category(a.session_type) == "assessment" and a.start < appt.start for a in mine
    )
    fact["intake_pending"] = p.phase == "intake" and not assessed
    medical = frozenset(ctx.em | ctx.evaluations)
    fact["medical_eval_scheduled"] = cat in medical or any(
        ctx.category(a.session_type) in medical for a in mine
    )
    if p.admitted is not None:
        fact["days_since_admission"] = (day - p.admitted).days


def _court(
    ctx: _Context,
    fact: Fact,
    p: PatientFacts,
    appt: AppointmentFacts,
    day: date,
    mine: list[AppointmentFacts],
    adds: bool,
) -> None:
    """CRT-01/02/07: is this session one the court requires, and what is left that week."""
    order = p.court_order
    if order is None:
        return
    active = order.start <= day <= order.end
    fact["court_order_active"] = active
    fact["liaison"] = order.liaison
    fact["actor_is_liaison"] = order.liaison is not None and order.liaison == ctx.actor.id
    fact["report_to"] = order.report_to
    per_week = order.requirements.get(appt.session_type)
    fact["court_required_type"] = per_week is not None
    if not active or per_week is None:
        return
    lo, hi = week_bounds(day)
    count = sum(
        1
        for a in mine
        if a.session_type == appt.session_type and lo <= ctx.local_date(a.start) < hi
    )
    if adds:
        count += 1
    elif ctx.action == "set_status":
        count += 1 if (ctx.s.new_status or "") in ACTIVE_STATUSES else 0
    fact["court_required_per_week"] = per_week
    fact["court_week_count_after"] = count
    fact["court_shortfall_after"] = max(0, per_week - count)


def _group(
    ctx: _Context, fact: Fact, p: PatientFacts, group_id: str | None, appt: AppointmentFacts | None
) -> None:
    """GRP-06 closed cohorts and keep-apart pairs."""
    s = ctx.s
    group = s.groups.get(group_id) if group_id else None
    if group is not None and ctx.action in _CHANGES_TIME:
        fact["new_member"] = p.id not in group.members
        fact["group_closed"] = group.closed
        fact["group_session_number"] = group.sessions_held_before + 1
    if ctx.action not in _CHANGES_TIME:
        return
    together: set[str] = set(appt.patients) if appt is not None else set()
    if group is not None and (appt is None or appt.group):
        together |= group.members
    together.discard(p.id)
    other = next((o for o in sorted(together) if frozenset({p.id, o}) in s.keep_apart), None)
    fact["keep_apart_conflict"] = other is not None
    fact["keep_apart_with"] = other


def _family_consent(p: PatientFacts, tables: Tables) -> bool:
    family = {str(x).lower() for x in tables.get("family_recipients", ("family",))}
    return bool(p.consents & family)


def _consented(p: PatientFacts, recipient: str, name: str | None, tables: Tables) -> bool:
    if recipient == "family":
        return _family_consent(p, tables)
    wanted = {recipient.lower()}
    if name:
        wanted.add(name.lower())
    return bool(p.consents & wanted)


def _staff_fact(ctx: _Context, base: Fact, st: StaffFacts, appt: AppointmentFacts) -> Fact:
    s, t = ctx.s, ctx.t
    cat = ctx.category(appt.session_type)
    stype = s.session_types.get(appt.session_type)
    fact: Fact = {
        **base,
        "subject": "staff",
        "staff": st.id,
        "staff_role": st.role.replace("_", " "),
        "staff_credentials": ", ".join(sorted(st.credentials)) or "no credentials on file",
        "credential_ok": qualifies(st, stype, cat, t),
        "required_text": required_text(stype, cat, t),
        "is_intern": st.role == "intern",
    }
    if cat in t.get("needs_categories", ()) and len(appt.patients) == 1:
        pid = appt.patients[0]
        patient = s.patients.get(pid)
        if patient is not None:
            missing = sorted(missing_needs(patient.needs, st.specializations))
            fact["patient"] = pid
            fact["needs_missing_count"] = len(missing)
            fact["needs_missing"] = ", ".join(m.replace("_", " ") for m in missing) or None
    if st.role == "intern":
        _supervision(ctx, fact, st, appt)
    return fact


def _supervision(ctx: _Context, fact: Fact, st: StaffFacts, appt: AppointmentFacts) -> None:
    """STF-05: an intern works only with a supervisor on site (or, past the hours threshold,
    reachable) or next to a qualified co-facilitator."""
    s, t = ctx.s, ctx.t
    sup = s.staff.get(st.supervisor) if st.supervisor else None
    fact["supervisor"] = st.supervisor
    fact["has_supervisor"] = sup is not None
    fact["supervised_hours"] = st.supervised_hours or 0
    cat = ctx.category(appt.session_type)
    stype = s.session_types.get(appt.session_type)
    fact["licensed_cofacilitator"] = any(
        other.role != "intern" and qualifies(other, stype, cat, t)
        for sid in appt.staff
        if sid != st.id and (other := s.staff.get(sid)) is not None
    )
    if sup is None:
        return
    on_leave = any(u_start < appt.end and appt.start < u_end for u_start, u_end in sup.unavailable)
    fact["supervisor_reachable"] = not on_leave
    fact["supervisor_on_site"] = not on_leave and within_weekly(
        sup.availability, appt.start, appt.end, ctx.tz
    )
    fact["supervisor_credentials"] = ", ".join(sorted(sup.credentials)) or "none on file"
    billing = frozenset(t.get("supervisors_billing_interns", ()))
    fact["supervisor_bills_interns"] = bool(sup.credentials & billing) or bool(sup.roles & billing)


def _disclosure_fact(ctx: _Context, base: Fact) -> Fact:
    s, t = ctx.s, ctx.t
    d = s.disclosure
    assert d is not None
    patient = s.patients.get(d.patient)
    consented = d.recipient in ("workforce", "patient") or (
        patient is not None and _consented(patient, d.recipient, d.recipient_name, t)
    )
    may_view: bool | None = None
    if d.recipient == "workforce" and d.recipient_staff is not None:
        rec = s.staff.get(d.recipient_staff)
        action = "view_clinical" if d.content == "clinical" else "view_schedule"
        may_view = rec is not None and role_scope(rec.roles, action, t) is not None
    return {
        **base,
        "subject": "disclosure",
        "patient": d.patient,
        "channel": d.channel,
        "recipient": d.recipient,
        "content": d.content,
        "identifies_patient": d.identifies_patient,
        "consented": consented,
        "recipient_may_view": may_view,
        "vendor_baa": d.vendor_baa,
        "deidentified": d.deidentified,
        "consent_reminders": patient.consent_reminders if patient else False,
    }


def age_from_dob(dob: date | None, on: date) -> int | None:
    if dob is None:
        return None
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
