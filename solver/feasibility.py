"""Who and what is free when: the hard constraints every solver shares, checked exactly.

`Feasibility` indexes a Problem once (availability windows, booked appointments, per-day and
per-week counts) and answers "may this session happen here, now, with these people?". The plan,
the slot finder, the repair and the greedy baseline all ask it, so they agree on what is legal.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable

from solver.model import (
    SAME_TYPE_PER_DAY,
    Hold,
    PatientInfo,
    PatientLimit,
    Placement,
    Problem,
    RoomInfo,
    RuleWindows,
    SameDayApart,
    SessionKind,
    UnitBudget,
    Window,
)
from solver.timegrid import Busy, covers, intersect, normalize


class Feasibility:
    def __init__(self, problem: Problem, booked: Iterable[Placement] | None = None) -> None:
        self.problem = problem
        self.staff = problem.staff_by_id()
        self.rooms = problem.rooms_by_id()
        self.patients = problem.patients_by_id()
        self.open = normalize(d.open for d in problem.days)
        self.staff_windows = {s.id: intersect(s.available, self.open) for s in problem.staff}
        self.room_windows = {r.id: intersect(r.available, self.open) for r in problem.rooms}
        self.busy = Busy()
        self.per_day: dict[tuple[str, str, int], int] = defaultdict(int)
        self.staff_week_minutes: dict[tuple[str, int], int] = defaultdict(int)
        self._patient_windows: dict[str, tuple[Window, ...] | None] = {}
        self.booked: list[Placement] = []
        self.added: list[Placement] = []
        self._added_by_patient: dict[str, list[Placement]] = defaultdict(list)
        elig = problem.eligibility
        self._budgets: dict[str, list[UnitBudget]] = defaultdict(list)
        for budget in elig.budgets:
            self._budgets[budget.patient].append(budget)
        self.budget_week_use: dict[tuple[int, int], int] = defaultdict(int)
        """(id of a budget, week) -> sessions it pays for that week, booked or added."""
        self.limits: dict[str, list[PatientLimit]] = defaultdict(list)
        for limit in elig.limits:
            self.limits[limit.patient].append(limit)
        self._limits_of: dict[tuple[str, str], list[PatientLimit]] = {}
        self.limit_use: dict[tuple[int, int], int] = defaultdict(int)
        """(id of a limit, day index or week) -> sessions or minutes used, booked or added."""
        self.apart: dict[str, list[SameDayApart]] = defaultdict(list)
        for rule in elig.apart_same_day:
            self.apart[rule.patient].append(rule)
        self.sessions_on_day: dict[tuple[str, int], list[tuple[str, tuple[str, ...]]]] = (
            defaultdict(list)
        )
        """(patient, day index) -> (session type, staff) of each session, booked or added."""
        self.holds = _by_staff(problem.holds)
        self._room_choices: dict[tuple[SessionKind, int, str | None], list[tuple[int, RoomInfo]]]
        self._room_choices = {}
        booked = list(problem.booked if booked is None else booked)
        for appt in booked:
            self.add(appt)
        # A budget's `remaining` is net of what the problem books; anything else passed here
        # (sessions placed since) pays from it, as if added one by one.
        known = {id(a) for a in problem.booked}
        self.added = [a for a in booked if id(a) not in known]
        self._added_by_patient.clear()
        for appt in self.added:
            for patient in appt.patients:
                self._added_by_patient[patient].append(appt)

    # -- state -----------------------------------------------------------------------------

    def add(self, appt: Placement) -> None:
        """Count `appt` as taken (booked, or placed by a greedy pass)."""
        self.booked.append(appt)
        self.added.append(appt)
        for patient in appt.patients:
            self._added_by_patient[patient].append(appt)
        self.busy.add_appointment(appt)
        day = self.problem.day_of(appt.start)
        week = self.problem.week_of(appt.start)
        if day is not None:
            for patient in appt.patients:
                self.per_day[(patient, appt.session_type, day.index)] += 1
                self.sessions_on_day[(patient, day.index)].append((appt.session_type, appt.staff))
        if week is not None:
            for staff in appt.staff:
                self.staff_week_minutes[(staff, week)] += appt.minutes
        for patient in appt.patients:
            for limit, bucket in self.limits_touched(patient, appt.session_type, appt.start):
                self.limit_use[(id(limit), bucket)] += appt.minutes if limit.minutes else 1
            if week is not None:
                for budget in self._budgets.get(patient, ()):
                    if appt.session_type in budget.session_types:
                        self.budget_week_use[(id(budget), week)] += 1

    def remove(self, appt: Placement) -> None:
        """Undo `add` for a placement added by a greedy pass (its repair moves meetings)."""
        self.booked.remove(appt)
        self.added.remove(appt)
        for patient in appt.patients:
            self._added_by_patient[patient].remove(appt)
        self.busy.remove_appointment(appt)
        day = self.problem.day_of(appt.start)
        week = self.problem.week_of(appt.start)
        if day is not None:
            for patient in appt.patients:
                self.per_day[(patient, appt.session_type, day.index)] -= 1
                self.sessions_on_day[(patient, day.index)].remove((appt.session_type, appt.staff))
        if week is not None:
            for staff in appt.staff:
                self.staff_week_minutes[(staff, week)] -= appt.minutes
        for patient in appt.patients:
            for limit, bucket in self.limits_touched(patient, appt.session_type, appt.start):
                self.limit_use[(id(limit), bucket)] -= appt.minutes if limit.minutes else 1
            if week is not None:
                for budget in self._budgets.get(patient, ()):
                    if appt.session_type in budget.session_types:
                        self.budget_week_use[(id(budget), week)] -= 1

    def holding(self, holds: Iterable[Hold]) -> Feasibility:
        """This index with `holds` standing instead of the problem's (a shallow copy: the
        indexes are shared, so it is for searching, not for adding placements)."""
        other = copy.copy(self)
        other.holds = _by_staff(holds)
        return other

    def held(self, staff: Iterable[str], start: int, end: int) -> str | None:
        """OPS-EMERGENCY-HOLD: why one of `staff` is held back over [start, end), or None."""
        for staff_id in staff:
            for hold in self.holds.get(staff_id, ()):
                if hold.window[0] < end and start < hold.window[1]:
                    return hold.words()
        return None

    # -- windows ---------------------------------------------------------------------------

    def patient_windows(self, patient_id: str) -> tuple[Window, ...] | None:
        """When the patient may come: own availability, rule windows, facility hours."""
        if patient_id not in self._patient_windows:
            patient = self.patients.get(patient_id)
            windows: tuple[Window, ...] = self.open
            if patient is not None and patient.available is not None:
                windows = intersect(windows, patient.available)
            rule = self.problem.eligibility.windows.get(patient_id)
            if rule is not None:
                windows = intersect(windows, rule.allowed)
            self._patient_windows[patient_id] = windows
        return self._patient_windows[patient_id]

    def session_windows(
        self, kind: SessionKind, patients: Iterable[str], staff: Iterable[str]
    ) -> tuple[Window, ...]:
        """Where everyone involved is available (ignoring what is already booked)."""
        windows = self.open
        for patient_id in patients:
            windows = intersect(windows, self.patient_windows(patient_id) or ())
            patient = self.patients.get(patient_id)
            if kind.family and patient is not None and patient.family_windows is not None:
                windows = intersect(windows, patient.family_windows)
        staff = tuple(staff)
        for staff_id in staff:
            windows = intersect(windows, self.staff_windows.get(staff_id, ()))
            rule = self.problem.eligibility.windows.get(staff_id)
            if rule is not None and not self._cofacilitated(rule, staff_id, staff, kind):
                windows = intersect(windows, rule.allowed)
        return windows

    def _cofacilitated(
        self, rule: RuleWindows, staff_id: str, staff: tuple[str, ...], kind: SessionKind
    ) -> bool:
        """STF-INTERN-*: another qualified staff member under no window rule is in the session."""
        if not rule.cofacilitated:
            return False
        elig = self.problem.eligibility
        qualified = elig.qualified.get(kind.id, ())
        return any(s != staff_id and s in qualified and s not in elig.windows for s in staff)

    # -- rooms -----------------------------------------------------------------------------

    def people_in_room(self, kind: SessionKind, patients: int, staff: int) -> int:
        return patients + staff + (kind.family_size if kind.family else 0)

    def room_choices(
        self, kind: SessionKind, size: int, only: str | None = None
    ) -> list[tuple[int, RoomInfo]]:
        """(kind rank, room) for rooms that can host the session, best fit first (memoized:
        the candidate builder asks once per candidate)."""
        if not kind.room_kinds:
            return []
        key = (kind, size, only)
        if key not in self._room_choices:
            self._room_choices[key] = self._fitting_rooms(kind, size, only)
        return list(self._room_choices[key])

    def _fitting_rooms(
        self, kind: SessionKind, size: int, only: str | None
    ) -> list[tuple[int, RoomInfo]]:
        out: list[tuple[int, RoomInfo]] = []
        for room in self.problem.rooms:
            if only is not None and room.id != only:
                continue
            lacks = any(f not in room.features for f in kind.room_features)
            if room.kind in kind.room_kinds and room.capacity >= size and not lacks:
                out.append((kind.room_kinds.index(room.kind), room))
        out.sort(key=lambda pair: (pair[0], pair[1].capacity, pair[1].id))
        return out

    def room_free(self, room: RoomInfo, start: int, end: int) -> bool:
        return covers(self.room_windows[room.id], start, end) and self.busy.room_free(
            room.id, start, end
        )

    def free_room(
        self, choices: list[tuple[int, RoomInfo]], start: int, end: int
    ) -> tuple[int, RoomInfo] | None:
        for rank, room in choices:
            if self.room_free(room, start, end):
                return rank, room
        return None

    # -- people ----------------------------------------------------------------------------

    def people_free(self, people: Iterable[str], start: int, end: int) -> bool:
        return all(self.busy.free(p, start, end) for p in people)

    def limits_touched(
        self, patient: str, session_type: str, start: int
    ) -> list[tuple[PatientLimit, int]]:
        """The patient's limits a session of this type at `start` counts against, each with its
        bucket (day index or week)."""
        key = (patient, session_type)
        matching = self._limits_of.get(key)
        if matching is None:  # asked ~10^6 times a plan: the type filter once per patient
            matching = [
                lim for lim in self.limits.get(patient, ()) if session_type in lim.session_types
            ]
            self._limits_of[key] = matching
        out: list[tuple[PatientLimit, int]] = []
        if matching:
            found = self.problem.day_of(start)
            day = found.index if found is not None else None
            week = self.problem.week_of(start)
            for limit in matching:
                bucket = day if limit.per == "day" else week
                if bucket is not None:
                    out.append((limit, bucket))
        return out

    def limit_left(self, limit: PatientLimit, bucket: int) -> int:
        return limit.most - self.limit_use.get((id(limit), bucket), 0)

    def over_limit(
        self, patients: Iterable[str], kind: SessionKind, start: int, minutes: int | None = None
    ) -> str | None:
        """The rule a session would break for one of its patients (a daily or weekly limit, or
        the plan's one-of-a-type-a-day convention), or None when it fits."""
        minutes = kind.minutes if minutes is None else minutes
        day = self.problem.day_of(start)
        for patient in patients:
            same_type = self.per_day.get((patient, kind.id, day.index), 0) if day else 0
            if not kind.group and same_type >= SAME_TYPE_PER_DAY:
                return f"one {kind.id} a day"
            for limit, bucket in self.limits_touched(patient, kind.id, start):
                if self.limit_left(limit, bucket) < (minutes if limit.minutes else 1):
                    return limit.words()
        return None

    def too_short(self, kind: SessionKind, minutes: int | None = None) -> str | None:
        """COD-IOP-DAY: the session would be shorter than its type may be booked for."""
        least = self.problem.eligibility.min_minutes.get(kind.id)
        length = kind.minutes if minutes is None else minutes
        return least.words() if least is not None and length < least.minutes else None

    def same_day_clash(
        self, patients: Iterable[str], staff: Iterable[str], kind: SessionKind, start: int
    ) -> str | None:
        """OPS-EVAL-EM-SAME-DAY: one of the patients already has, that local day and with one of
        these clinicians, a session this one may not share a day with (an E/M visit with a
        diagnostic evaluation, or the reverse)."""
        staff = frozenset(staff)
        for patient in patients:
            for rule in self.apart.get(patient, ()):
                if kind.id in rule.first:
                    other = rule.second
                elif kind.id in rule.second:
                    other = rule.first
                else:
                    continue  # most sessions are neither: no day to look up
                day = self.problem.day_of(start)
                if day is None:
                    return None
                for session_type, by in self.sessions_on_day.get((patient, day.index), ()):
                    if session_type in other and not staff.isdisjoint(by):
                        return rule.words()
        return None

    def refusal(
        self,
        patients: Iterable[str],
        staff: Iterable[str],
        kind: SessionKind,
        start: int,
        minutes: int | None = None,
        totals: bool = True,
    ) -> str | None:
        """Why the rules would refuse this session for one of its patients (its length, a
        same-day pair with one clinician, a daily or weekly limit, the payer's units or dates),
        or its clinicians' time is held for emergency admissions; None: the checks every placer
        shares."""
        patients, staff = tuple(patients), tuple(staff)
        refused = self.too_short(kind, minutes) or self.same_day_clash(patients, staff, kind, start)
        if refused is not None:
            return refused
        over = self.over_limit(patients, kind, start, minutes)
        if over is not None:
            return over
        for patient in patients:
            refused = self.budget_refusal(patient, kind.id, start, totals)
            if refused is not None:
                return refused
        if self.holds:
            return self.held(staff, start, start + (kind.minutes if minutes is None else minutes))
        return None

    def staff_week_left(self, staff_id: str, week: int) -> int | None:
        """Minutes of the clinician's weekly cap still free in `week` (None: no cap), counting
        what they hold here and at the network's other sites."""
        info = self.staff.get(staff_id)
        if info is None or info.max_minutes_per_week is None:
            return None
        held = self.staff_week_minutes.get((staff_id, week), 0)
        return info.max_minutes_per_week - held - info.week_minutes_elsewhere(week)

    def budget_left(
        self, patient_id: str, session_type: str, start: int, totals: bool = True
    ) -> int | None:
        """Units left for this session (None: no authorization covers its type, so none is
        needed). As at booking time: the covering authorization with the most units left pays
        (AUTH-UNITS); a covered type outside every authorization's dates gets 0 (AUTH-DATE-SPAN),
        and so does a week at the paying authorization's cap (AUTH-WEEK-CAP). `totals=False`
        leaves the total out (a move keeps the unit it already holds)."""
        return self._budget(patient_id, session_type, start, totals)[0]

    def budget_refusal(
        self, patient_id: str, session_type: str, start: int, totals: bool = True
    ) -> str | None:
        """Why the payer would not pay for this session, naming the authorization and the rule."""
        left, why = self._budget(patient_id, session_type, start, totals)
        return why if left == 0 else None

    def _budget(
        self, patient_id: str, session_type: str, start: int, totals: bool
    ) -> tuple[int | None, str]:
        covering = [b for b in self._budgets.get(patient_id, ()) if session_type in b.session_types]
        if not covering:
            return None, ""
        in_span = [b for b in covering if b.window[0] <= start < b.window[1]]
        if not in_span:
            return 0, f"outside the dates of {_named(covering[0])} (AUTH-DATE-SPAN)"
        pays = max(in_span, key=lambda b: (b.remaining - self.budget_used(b), -b.window[1]))
        left = pays.remaining - self.budget_used(pays) if totals else 1
        if left <= 0:
            return 0, f"no units left on {_named(pays)} (AUTH-UNITS)"
        week = self.problem.week_of(start)
        if pays.per_week is not None and week is not None:
            left = min(left, pays.per_week - self.budget_week_use.get((id(pays), week), 0))
            if left <= 0:
                return 0, f"{_named(pays)} is at its weekly cap (AUTH-WEEK-CAP)"
        return left, ""

    def budget_used(self, budget: UnitBudget) -> int:
        """Sessions added since solving began that this budget pays for."""
        return sum(
            1
            for a in self._added_by_patient.get(budget.patient, ())
            if a.session_type in budget.session_types
            and budget.window[0] <= a.start < budget.window[1]
        )


def _by_staff(holds: Iterable[Hold]) -> dict[str, tuple[Hold, ...]]:
    out: dict[str, list[Hold]] = defaultdict(list)
    for hold in holds:
        out[hold.staff].append(hold)
    return {staff: tuple(items) for staff, items in out.items()}


def _named(budget: UnitBudget) -> str:
    return f"authorization {budget.label}" if budget.label else "the payer's authorization"


def patient_acuity(patient: PatientInfo | None) -> int:
    return patient.acuity if patient is not None else 3
