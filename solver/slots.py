"""find_slots: the k best distinct options for one request, each with the terms behind its rank.

One request is small enough to search exhaustively: every start on the slot grid inside the
window, every eligible clinician, the best free room. Exhaustive search makes the ranking exact
and lets us say precisely what blocks when nothing fits. Two options are distinct when they do
not put the same clinician in overlapping times (so the k options are real alternatives).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from solver.demand import attendees, group_blocked
from solver.feasibility import Feasibility
from solver.model import (
    Day,
    PatientInfo,
    Problem,
    RoomInfo,
    SessionKind,
    SlotAnswer,
    SlotOption,
    SlotRequest,
    Window,
)
from solver.scoring import continuity_penalty, preference_penalty, room_penalty
from solver.timegrid import intersect, starts_within

BASE_SCORE = 100.0
"""Scores are BASE_SCORE plus the (mostly negative) terms, so a perfect option scores 100."""
NEAREST_DAYS = 7
"""How far outside the window to look for the nearest options when the window holds none."""


@dataclass(frozen=True)
class _Parties:
    kind: SessionKind
    minutes: int
    patients: tuple[str, ...]
    staff_sets: tuple[tuple[str, ...], ...]


def _parties(problem: Problem, request: SlotRequest) -> _Parties | str:
    """Who takes part, or the reason nobody can."""
    kind = problem.session_types.get(request.session_type)
    if kind is None:
        return f"unknown session type {request.session_type!r}"
    minutes = request.minutes or kind.minutes
    elig = problem.eligibility
    if request.group:
        group = next((g for g in problem.groups if g.id == request.group), None)
        if group is None:
            return f"unknown group {request.group!r}"
        members = attendees(problem, group)
        blocked = group_blocked(problem, group, members)
        if blocked is not None:
            return blocked
        return _Parties(kind, minutes, members, (group.facilitators,))
    patients = request.patients
    unknown = [p for p in patients if p not in problem.patients_by_id()]
    if unknown:
        return f"unknown patient {unknown[0]!r}"
    if len(patients) > kind.max_patients:
        return f"{request.session_type} takes at most {kind.max_patients} patient(s)"
    allowed: set[str] | None = None
    for p in patients:
        who = set(elig.staff_for.get((p, request.session_type), ()))
        if not who:
            return elig.blocked.get((p, request.session_type)) or (
                f"no clinician may provide {request.session_type} to this patient"
            )
        allowed = who if allowed is None else allowed & who
    if not allowed:
        return f"no single clinician may provide {request.session_type} to all these patients"
    if request.staff:
        if request.staff not in allowed:
            return (
                f"{request.staff} may not provide {request.session_type} to this patient "
                "(credentials, role or specializations)"
            )
        allowed = {request.staff}
    order = {
        s: i for i, s in enumerate(elig.staff_for.get((patients[0], request.session_type), ()))
    }
    staff = sorted(allowed, key=lambda s: (order.get(s, len(order)), s))
    staff = [s for s in staff if not elig.apart(frozenset({s, *patients}))]
    if not staff:
        return "a keep-apart rule excludes every eligible clinician"
    return _Parties(kind, minutes, tuple(patients), tuple((s,) for s in staff))


class SlotFinder:
    """Reusable over many requests on one Problem (the index is built once)."""

    def __init__(self, problem: Problem, feas: Feasibility | None = None) -> None:
        self.problem = problem
        self.feas = feas or Feasibility(problem)
        self._earliest = problem.horizon[0]

    def find(self, request: SlotRequest, k: int = 3, now: int | None = None) -> SlotAnswer:
        parties = _parties(self.problem, request)
        if isinstance(parties, str):
            return SlotAnswer(options=[], reason=parties)
        lo = max(request.window[0], now) if now is not None else request.window[0]
        window = (lo, request.window[1])
        if not intersect(self.feas.open, (window,)):
            return SlotAnswer(options=[], reason="the facility is not open in that window")
        blockers: Counter[str] = Counter()
        self._earliest = window[0]
        found = self._search(request, parties, window, blockers)
        options = _distinct(found, k)
        if len(options) >= k:
            return SlotAnswer(options=options)
        reason = _reason(blockers, len(options))
        nearest: list[SlotOption] = []
        if not options:
            nearest = self._nearest(request, parties, window, k, now)
        return SlotAnswer(options=options, reason=reason, nearest=nearest)

    def open_slots(
        self,
        session_type: str,
        window: Window,
        staff: Iterable[str] | None = None,
        now: int | None = None,
    ) -> list[SlotOption]:
        """The free slots nobody has asked for yet (a published slot list, a FHIR Slot search):
        for one session type, every qualified clinician's free times inside `window`, tiled by
        the session's length, each with a free room, clinician by clinician, earliest first.

        The same search as `find` with no patient named: the clinician, the room, the weekly
        hours, the holds for emergencies and the session's own length are checked; what depends
        on the patient (caseload, limits, the payer's units) is the booking's to check. Group
        sessions are never open: they are standing groups, joined by enrolment."""
        kind = self.problem.session_types.get(session_type)
        if kind is None or kind.group:
            return []
        wanted = None if staff is None else set(staff)
        qualified = self.problem.eligibility.qualified.get(session_type, ())
        staff_sets = tuple((s,) for s in qualified if wanted is None or s in wanted)
        lo = max(window[0], now) if now is not None else window[0]
        if not staff_sets or lo >= window[1]:
            return []
        parties = _Parties(kind, kind.minutes, (), staff_sets)
        request = SlotRequest(patients=(), session_type=session_type, window=(lo, window[1]))
        found = self._search(request, parties, (lo, window[1]), Counter(), scored=False)
        tiled: list[SlotOption] = []
        taken_until: dict[tuple[str, ...], int] = {}
        for option in sorted(found, key=lambda o: (o.staff, o.start)):
            if option.start >= taken_until.get(option.staff, lo):
                tiled.append(option)
                taken_until[option.staff] = option.end
        return tiled

    def _nearest(
        self, request: SlotRequest, parties: _Parties, window: Window, k: int, now: int | None
    ) -> list[SlotOption]:
        """The k options nearest the window, up to NEAREST_DAYS outside it. Looked for a day's
        distance at a time, nearest first, until k distinct ones are found: every option of a
        farther day ranks after them, so the answer is that of searching every day at once."""
        horizon = self.problem.horizon
        day = 24 * 60
        around = (
            (max(horizon[0], window[0] - NEAREST_DAYS * day, now or horizon[0]), window[0]),
            (window[1], min(horizon[1], window[1] + NEAREST_DAYS * day)),
        )
        found: list[SlotOption] = []
        nearest: list[SlotOption] = []
        for ring in range(NEAREST_DAYS + 1):
            # The starts `ring` days (up to the next day) before the window and after it.
            rings = ((window[0] - (ring + 1) * day + 1, window[0] - ring * day + 1),
                     (window[1] + ring * day, window[1] + (ring + 1) * day))  # fmt: skip
            for span, starts in zip(around, rings, strict=True):
                if span[0] < span[1]:
                    found += self._search(request, parties, span, Counter(), starts)
            found.sort(
                key=lambda o: (min(abs(o.start - window[0]), abs(o.start - window[1])), -o.score)
            )
            nearest = _distinct(found, k, keep_order=True)
            if len(nearest) >= k:
                break
        return nearest

    # -- search ----------------------------------------------------------------------------

    def _search(
        self,
        request: SlotRequest,
        parties: _Parties,
        window: Window,
        blockers: Counter[str],
        starts: Window | None = None,
        scored: bool = True,
    ) -> list[SlotOption]:
        """Every option inside `window` (with `starts`, only those starting in [a, b));
        `scored=False` leaves the score terms out (nobody ranks open slots)."""
        problem, feas = self.problem, self.feas
        kind, minutes, patients = parties.kind, parties.minutes, parties.patients
        size = feas.people_in_room(kind, len(patients), len(parties.staff_sets[0]))
        rooms = feas.room_choices(kind, size, only=request.room)
        if kind.room_kinds and not rooms:
            where = f"room {request.room}" if request.room else "no room"
            blockers[f"{where} of kind {'/'.join(kind.room_kinds)} for {size} people"] += 1
            return []
        patient_info = feas.patients.get(patients[0]) if len(patients) == 1 else None
        out: list[SlotOption] = []
        for staff in parties.staff_sets:
            windows = intersect(feas.session_windows(kind, patients, staff), (window,))
            if not windows:
                blockers["no time when the patient and clinician are both available"] += 1
                continue
            for start in starts_within(windows, minutes, problem.slot_minutes):
                if starts is not None and not starts[0] <= start < starts[1]:
                    continue
                end = start + minutes
                day = problem.day_of(start)
                if day is None:
                    continue
                if not feas.people_free(patients, start, end):
                    blockers["the patient's other appointments"] += 1
                    continue
                if not feas.people_free(staff, start, end):
                    blockers[f"{', '.join(staff)} busy"] += 1
                    continue
                if any(
                    (left := feas.staff_week_left(s, day.week)) is not None and left < minutes
                    for s in staff
                ):
                    blockers[self._out_of_hours(staff, day.week)] += 1
                    continue
                refused = feas.refusal(patients, staff, kind, start, minutes)
                if refused is not None:
                    blockers[refused] += 1
                    continue
                room = feas.free_room(rooms, start, end) if rooms else None
                if rooms and room is None:
                    blockers["no suitable room free"] += 1
                    continue
                why = (
                    self._terms(patient_info, staff, start, end, day, kind, room, size)
                    if scored
                    else {}
                )
                out.append(
                    SlotOption(
                        start=start,
                        end=end,
                        staff=staff,
                        room=room[1].id if room else None,
                        score=round(BASE_SCORE + sum(why.values()), 2),
                        why=why,
                    )
                )
        return out

    def _out_of_hours(self, staff: tuple[str, ...], week: int) -> str:
        """Why a clinician's weekly cap leaves no room, naming hours held at other sites."""
        away = sum(self.feas.staff[s].week_minutes_elsewhere(week) for s in staff)
        hours = f"{away / 60:.1f}".removesuffix(".0")
        elsewhere = f" (counting {hours} h at other sites)" if away else ""
        return f"{', '.join(staff)} out of weekly hours{elsewhere}"

    def _terms(
        self,
        patient: PatientInfo | None,
        staff: tuple[str, ...],
        start: int,
        end: int,
        day: Day,
        kind: SessionKind,
        room: tuple[int, RoomInfo] | None,
        size: int,
    ) -> dict[str, float]:
        """The score terms, named after what they mean (each <= 0 except a compact day)."""
        w = self.problem.weights
        feas = self.feas
        day_lo, day_hi = day.open
        # Continuity and preferences are terms only for a patient who has a clinician or a
        # preference: a zero there is otherwise no match, and "why" must not word it as one.
        terms: dict[str, float] = {}
        if patient is not None and (patient.primary_staff or patient.seen_by):
            terms["continuity"] = -continuity_penalty(patient, staff, w)
        if patient is not None and (
            patient.preferred_staff or patient.preferred_windows or patient.avoid_days
        ):
            terms["preference"] = -preference_penalty(patient, staff, start, end, day, w)
        # Spacing: not on the same day as the patient's other sessions; not the day next to a
        # session of the same type.
        spacing = 0.0
        if patient is not None:
            for s, _end in feas.busy.spans(patient.id):
                if day_lo <= s < day_hi:
                    spacing -= w.same_day_as_other
                elif abs(s - start) < 36 * 60:
                    spacing -= w.same_day_as_other / 3
        terms["spacing"] = round(spacing, 2)
        if room is not None:
            rank, info = room
            terms["room_fit"] = -room_penalty(rank, info.capacity - size, w)
        # Compactness: joining the clinician's existing block beats opening a new one.
        compact = 0.0
        for s_id in staff:
            same_day = [(s, e) for s, e in feas.busy.spans(s_id) if day_lo <= s < day_hi]
            if not same_day:
                continue
            if any(e == start or s == end for s, e in same_day):
                compact += w.staff_day_block
            else:
                compact -= w.staff_day_block
        terms["compact_day"] = compact
        # Acuity: the sicker the patient, the more an earlier day matters.
        acuity = patient.acuity if patient is not None else 3
        days_out = max(0, start - self._earliest) / (24 * 60)
        terms["acuity_earlier"] = round(-0.4 * acuity * days_out, 2)
        return terms


def _distinct(options: list[SlotOption], k: int, keep_order: bool = False) -> list[SlotOption]:
    ranked = options if keep_order else sorted(options, key=lambda o: (-o.score, o.start, o.staff))
    chosen: list[SlotOption] = []
    for opt in ranked:
        if len(chosen) == k:
            break
        if any(
            set(opt.staff) & set(c.staff) and opt.start < c.end and c.start < opt.end
            for c in chosen
        ):
            continue
        chosen.append(opt)
    return chosen


def _reason(blockers: Counter[str], found: int) -> str:
    head = "no option" if found == 0 else f"only {found} option{'s' if found > 1 else ''}"
    if not blockers:
        return f"{head} in the window: nobody involved is available then"
    top = [f"{why} ({n}x)" for why, n in blockers.most_common(3)]
    return f"{head} in the window; blocked by " + "; ".join(top)


def find_slots(
    problem: Problem, request: SlotRequest, k: int = 3, now: int | None = None
) -> SlotAnswer:
    return SlotFinder(problem).find(request, k, now)
