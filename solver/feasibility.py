"""Who and what is free when: the hard constraints every solver shares, checked exactly.

`Feasibility` indexes a Problem once (availability windows, booked appointments, per-day and
per-week counts) and answers "may this session happen here, now, with these people?". The plan,
the slot finder, the repair and the greedy baseline all ask it, so they agree on what is legal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from solver.model import (
    Appointment,
    PatientInfo,
    Problem,
    RoomInfo,
    SessionKind,
    UnitBudget,
    Window,
)
from solver.timegrid import Busy, covers, intersect, normalize


class Feasibility:
    def __init__(self, problem: Problem, booked: Iterable[Appointment] | None = None) -> None:
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
        self.booked: list[Appointment] = []
        self.added: list[Appointment] = []
        self._added_by_patient: dict[str, list[Appointment]] = defaultdict(list)
        self._budgets: dict[str, list[UnitBudget]] = defaultdict(list)
        for budget in problem.eligibility.budgets:
            self._budgets[budget.patient].append(budget)
        for appt in problem.booked if booked is None else booked:
            self.add(appt)
        self.added.clear()  # budgets are net of what was booked before solving
        self._added_by_patient.clear()

    # -- state -----------------------------------------------------------------------------

    def add(self, appt: Appointment) -> None:
        """Count `appt` as taken (booked, or placed by a greedy pass)."""
        self.booked.append(appt)
        self.added.append(appt)
        for patient in appt.patients:
            self._added_by_patient[patient].append(appt)
        self.busy.add_appointment(appt)
        day = self.problem.day_of(appt.start)
        if day is not None:
            for patient in appt.patients:
                self.per_day[(patient, appt.session_type, day.index)] += 1
            for staff in appt.staff:
                self.staff_week_minutes[(staff, day.week)] += appt.minutes

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
                windows = intersect(windows, rule)
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
        for staff_id in staff:
            windows = intersect(windows, self.staff_windows.get(staff_id, ()))
        return windows

    # -- rooms -----------------------------------------------------------------------------

    def people_in_room(self, kind: SessionKind, patients: int, staff: int) -> int:
        return patients + staff + (kind.family_size if kind.family else 0)

    def room_choices(
        self, kind: SessionKind, size: int, only: str | None = None
    ) -> list[tuple[int, RoomInfo]]:
        """(kind rank, room) for rooms that can host the session, best fit first."""
        if not kind.room_kinds:
            return []
        out: list[tuple[int, RoomInfo]] = []
        for room in self.problem.rooms:
            if only is not None and room.id != only:
                continue
            if room.kind in kind.room_kinds and room.capacity >= size:
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

    def day_allows(self, patients: Iterable[str], session_type: str, day: int) -> bool:
        """The per-day limit for this session type (OPS-06) still has room for each patient."""
        limit = self.problem.eligibility.max_per_day.get(session_type, 1)
        return all(self.per_day.get((p, session_type, day), 0) < limit for p in patients)

    def staff_week_left(self, staff_id: str, week: int) -> int | None:
        cap = self.staff[staff_id].max_minutes_per_week if staff_id in self.staff else None
        if cap is None:
            return None
        return cap - self.staff_week_minutes.get((staff_id, week), 0)

    def budget_left(self, patient_id: str, session_type: str, start: int) -> int | None:
        """Units left for this session (None: no authorization covers its type, so none is
        needed). As at booking time (AUTH-03, AUTH-DATE-SPAN): the covering authorization with
        the most units left pays; a covered type outside every authorization's dates gets 0."""
        covering = [b for b in self._budgets.get(patient_id, ()) if session_type in b.session_types]
        if not covering:
            return None
        best = 0
        for budget in covering:
            if not budget.window[0] <= start < budget.window[1]:
                continue
            used = sum(
                1
                for a in self._added_by_patient.get(patient_id, ())
                if a.session_type in budget.session_types
                and budget.window[0] <= a.start < budget.window[1]
            )
            best = max(best, budget.remaining - used)
        return best


def patient_acuity(patient: PatientInfo | None) -> int:
    return patient.acuity if patient is not None else 3
