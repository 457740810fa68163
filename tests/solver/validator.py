"""An independent checker of schedules: re-derives every hard constraint from the Problem's plain
data, without using any solver module other than the dataclasses. Returns readable violations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from solver.model import SAME_TYPE_PER_DAY, Placement, Problem


def _inside(windows: Iterable[tuple[int, int]] | None, start: int, end: int) -> bool:
    if windows is None:
        return True
    return any(a <= start and end <= b for a, b in windows)


def _overlap(a: Placement, b: Placement) -> bool:
    return a.start < b.end and b.start < a.end


def validate(
    problem: Problem,
    schedule: list[Placement],
    *,
    new: list[Placement] | None = None,
    keep: Iterable[Placement] = (),
    before: Iterable[Placement] = (),
) -> list[str]:
    """Violations of hard constraints in `schedule` (the whole period). `new` are the
    appointments the solver created or moved (their placement rules are checked); `keep` must
    appear unchanged. `before`: the original versions of moved appointments; a move that keeps
    the same clinicians keeps the care relationship, so eligibility is not re-judged for it."""
    bad: list[str] = []
    staff = {s.id: s for s in problem.staff}
    rooms = {r.id: r for r in problem.rooms}
    patients = {p.id: p for p in problem.patients}
    elig = problem.eligibility
    new = schedule if new is None else new
    new_ids = {a.id for a in new}

    original_staff = {a.id: a.staff for a in before}
    present = {a.id: a for a in schedule}
    for a in keep:
        if present.get(a.id) != a:
            bad.append(f"{a.id}: a kept appointment was changed or dropped")

    # No double booking of any person or room, anywhere in the schedule.
    by_resource: dict[str, list[Placement]] = defaultdict(list)
    for a in schedule:
        for who in (*a.staff, *a.patients):
            by_resource[who].append(a)
        if a.room:
            by_resource["room " + a.room].append(a)
    for who, appts in by_resource.items():
        appts.sort(key=lambda a: a.start)
        for i, a in enumerate(appts):
            for b in appts[i + 1 :]:
                if b.start >= a.end:
                    break
                if _overlap(a, b) and (a.id in new_ids or b.id in new_ids):
                    bad.append(f"{who} double-booked: {a.id} and {b.id}")

    def day_of(minute: int) -> int | None:
        for d in problem.days:
            if d.open[0] <= minute < d.open[1]:
                return d.index
        return None

    for a in new:
        kind = problem.session_types[a.session_type]
        day = day_of(a.start)
        if day is None or not _inside([problem.days[day].open], a.start, a.end):
            bad.append(f"{a.id}: outside facility hours")
        if a.minutes != kind.minutes:
            bad.append(f"{a.id}: lasts {a.minutes} min, {a.session_type} takes {kind.minutes}")
        least = elig.min_minutes.get(a.session_type)
        if least is not None and a.minutes < least.minutes:
            bad.append(f"{a.id}: {a.minutes} min, shorter than {least.minutes} ({least.rule})")
        qualified = elig.qualified.get(a.session_type, ())
        for s in a.staff:
            if s not in staff or not _inside(staff[s].available, a.start, a.end):
                bad.append(f"{a.id}: {s} is not working then")
            rule = elig.windows.get(s)
            cofacilitator = any(
                o != s and o in qualified and o not in elig.windows for o in a.staff
            )
            waived = rule is not None and rule.cofacilitated and cofacilitator
            if rule and not waived and not _inside(rule.allowed, a.start, a.end):
                bad.append(f"{a.id}: {s} outside the windows of {rule.rule}")
        for p in a.patients:
            info = patients.get(p)
            if info is None:
                bad.append(f"{a.id}: unknown patient {p}")
                continue
            if not _inside(info.available, a.start, a.end):
                bad.append(f"{a.id}: {p} is not available then")
            rule = elig.windows.get(p)
            if rule is not None and not _inside(rule.allowed, a.start, a.end):
                bad.append(f"{a.id}: {p} outside the windows of {rule.rule}")
            if kind.family and not _inside(info.family_windows, a.start, a.end):
                bad.append(f"{a.id}: the family of {p} is not available then")
        if any(pair <= a.people for pair in elig.keep_apart):
            bad.append(f"{a.id}: people who must be kept apart share it")
        # PlanRules: group sessions are run by the group's facilitators for its members;
        # anything else by a clinician the rules allow for every patient.
        if a.group:
            group = next((g for g in problem.groups if g.id == a.group), None)
            attending = (
                {m for m in group.members if (m, a.session_type) not in elig.blocked}
                if group
                else set()
            )
            if group is None or set(a.patients) != attending:
                bad.append(f"{a.id}: not the group's members who may attend")
            elif not set(a.staff) <= set(group.facilitators) | set(qualified):
                bad.append(f"{a.id}: facilitated by someone not allowed")
            elif group.id in elig.group_max and len(a.patients) > elig.group_max[group.id]:
                bad.append(f"{a.id}: more members than the group may hold")
        elif original_staff.get(a.id) != a.staff:
            for p in a.patients:
                for s in a.staff:
                    if s not in elig.staff_for.get((p, a.session_type), ()):
                        bad.append(f"{a.id}: {s} may not provide {a.session_type} to {p}")
        # Rooms: the right kind and big enough, and open.
        if kind.room_kinds:
            if a.room is None or a.room not in rooms:
                bad.append(f"{a.id}: no room")
            else:
                room = rooms[a.room]
                people = len(a.patients) + len(a.staff) + (kind.family_size if kind.family else 0)
                if room.kind not in kind.room_kinds:
                    bad.append(f"{a.id}: room {room.id} is a {room.kind} room")
                if room.capacity < people:
                    bad.append(f"{a.id}: room {room.id} holds {room.capacity}, needs {people}")
                if not _inside(room.available, a.start, a.end):
                    bad.append(f"{a.id}: room {room.id} is closed then")

    def week_of(minute: int) -> int | None:
        if not problem.weeks:
            return minute // (7 * 24 * 60)
        return next((i for i, (lo, hi) in enumerate(problem.weeks) if lo <= minute < hi), None)

    # One session of a non-group type per patient a day; groups keep min_days_apart.
    per_day: dict[tuple[str, str, int], int] = defaultdict(int)
    group_days: dict[str, list[int]] = defaultdict(list)
    for a in schedule:
        day = day_of(a.start)
        if day is None:
            continue
        if a.group:
            group_days[a.group].append(day)
            continue
        for p in a.patients:
            per_day[(p, a.session_type, day)] += 1
    for (p, st, day), n in per_day.items():
        if n > SAME_TYPE_PER_DAY:
            bad.append(f"{p}: {n} {st} sessions on day {day}")
    for g in problem.groups:
        days = sorted(group_days.get(g.id, []))
        for i in range(1, len(days)):
            gap = (problem.days[days[i]].date - problem.days[days[i - 1]].date).days
            if gap < g.min_days_apart:
                bad.append(f"group {g.id}: meetings {gap} days apart")
        per_week: dict[int, int] = defaultdict(int)
        for d in days:
            per_week[problem.days[d].week] += 1
        for week, n in per_week.items():
            if n > g.sessions_per_week:
                bad.append(f"group {g.id}: {n} meetings in week {week}")

    # The rules' per-patient limits, per day or ISO week, booked sessions included.
    for limit in elig.limits:
        used: dict[int | None, int] = defaultdict(int)
        touched: set[int | None] = set()
        for a in schedule:
            if limit.patient not in a.patients or a.session_type not in limit.session_types:
                continue
            bucket = day_of(a.start) if limit.per == "day" else week_of(a.start)
            used[bucket] += a.minutes if limit.minutes else 1
            if a.id in new_ids:
                touched.add(bucket)
        for bucket in touched:
            if bucket is not None and used[bucket] > limit.most:
                bad.append(f"{limit.patient}: {used[bucket]} over {limit.most} ({limit.rule})")

    # Session pairs a patient may not have with one clinician on one day, booked ones included.
    for pair in elig.apart_same_day:
        mine = [a for a in schedule if pair.patient in a.patients]
        for a in (a for a in mine if a.session_type in pair.first):
            for b in (b for b in mine if b.session_type in pair.second):
                day = day_of(a.start)
                together = (
                    day is not None and day == day_of(b.start) and set(a.staff) & set(b.staff)
                )
                if together and (a.id in new_ids or b.id in new_ids):
                    bad.append(f"{pair.patient}: {a.id} and {b.id} on one day ({pair.rule})")

    # Clinicians' weekly hours.
    minutes: dict[tuple[str, int], int] = defaultdict(int)
    for a in schedule:
        day = day_of(a.start)
        if day is not None:
            for s in a.staff:
                minutes[(s, problem.days[day].week)] += a.minutes
    for (s, week), here in minutes.items():
        cap = staff[s].max_minutes_per_week if s in staff else None
        total = here + (staff[s].week_minutes_elsewhere(week) if s in staff else 0)
        if cap is not None and total > cap:
            bad.append(f"{s}: {total} minutes in week {week} (all sites), cap {cap}")

    # Payer budgets count only what the solver added.
    for b in elig.budgets:
        used = sum(
            1
            for a in new
            if b.patient in a.patients
            and a.session_type in b.session_types
            and b.window[0] <= a.start < b.window[1]
        )
        if used > b.remaining:
            bad.append(f"{b.patient}: {used} sessions on a budget of {b.remaining}")
        if b.per_week is None:
            continue
        weekly: dict[int | None, int] = defaultdict(int)
        for a in schedule:
            if b.patient in a.patients and a.session_type in b.session_types:
                weekly[week_of(a.start)] += 1
        for week, n in weekly.items():
            if week is not None and n > b.per_week:
                bad.append(f"{b.patient}: {n} sessions in week {week}, cap {b.per_week}")
    return bad
