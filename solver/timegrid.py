"""Windows on the minute line and who is busy when. Small, exact helpers used by every solver."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable

from solver.model import Placement, Window


def normalize(windows: Iterable[Window]) -> tuple[Window, ...]:
    """Sorted, merged, non-empty windows."""
    merged: list[list[int]] = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((a, b) for a, b in merged)


def intersect(a: Iterable[Window], b: Iterable[Window]) -> tuple[Window, ...]:
    a_n, b_n = normalize(a), normalize(b)
    out: list[Window] = []
    i = j = 0
    while i < len(a_n) and j < len(b_n):
        start = max(a_n[i][0], b_n[j][0])
        end = min(a_n[i][1], b_n[j][1])
        if start < end:
            out.append((start, end))
        if a_n[i][1] < b_n[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def subtract(a: Iterable[Window], b: Iterable[Window]) -> tuple[Window, ...]:
    out: list[Window] = []
    cuts = normalize(b)
    for start, end in normalize(a):
        cursor = start
        for c_start, c_end in cuts:
            if c_end <= cursor or c_start >= end:
                continue
            if c_start > cursor:
                out.append((cursor, c_start))
            cursor = max(cursor, c_end)
        if cursor < end:
            out.append((cursor, end))
    return tuple(out)


def covers(windows: tuple[Window, ...] | None, start: int, end: int) -> bool:
    """True when [start, end) lies inside one window (None: no restriction).
    `windows` must be normalized."""
    if windows is None:
        return True
    i = bisect_right(windows, (start, 1 << 62)) - 1
    return i >= 0 and windows[i][0] <= start and end <= windows[i][1]


def starts_within(windows: Iterable[Window], minutes: int, step: int, origin: int = 0) -> list[int]:
    """Every start on the grid (origin + n*step) such that [start, start+minutes) fits a window."""
    out: list[int] = []
    for w_start, w_end in normalize(windows):
        first = origin + -(-(w_start - origin) // step) * step
        out.extend(range(first, w_end - minutes + 1, step))
    return out


class Busy:
    """Busy intervals per resource (staff, patient or room id): overlap tests in O(log n)."""

    def __init__(self) -> None:
        self._spans: dict[str, list[Window]] = defaultdict(list)
        self._sorted = True

    def add(self, resource: str, start: int, end: int) -> None:
        self._spans[resource].append((start, end))
        self._sorted = False

    def add_room(self, room: str, start: int, end: int) -> None:
        self.add(_room_key(room), start, end)

    def add_appointment(self, appt: Placement) -> None:
        for person in (*appt.staff, *appt.patients):
            self.add(person, appt.start, appt.end)
        if appt.room:
            self.add(_room_key(appt.room), appt.start, appt.end)

    def remove_appointment(self, appt: Placement) -> None:
        """Undo `add_appointment` (a constructive placer taking a meeting back)."""
        for person in (*appt.staff, *appt.patients):
            self._spans[person].remove((appt.start, appt.end))
        if appt.room:
            self._spans[_room_key(appt.room)].remove((appt.start, appt.end))

    def _sort(self) -> None:
        if not self._sorted:
            for spans in self._spans.values():
                spans.sort()
            self._sorted = True

    def free(self, resource: str, start: int, end: int) -> bool:
        self._sort()
        spans = self._spans.get(resource)
        if not spans:
            return True
        i = bisect_right(spans, (end, -1)) - 1
        # Spans are sorted by start; any overlap must start before `end`. Walk back while the
        # spans could still reach `start` (short lists in practice).
        while i >= 0:
            s, e = spans[i]
            if e > start and s < end:
                return False
            if e <= start and s < start - 24 * 60:
                break
            i -= 1
        return True

    def room_free(self, room: str, start: int, end: int) -> bool:
        return self.free(_room_key(room), start, end)

    def spans(self, resource: str) -> list[Window]:
        self._sort()
        return list(self._spans.get(resource, ()))


def _room_key(room: str) -> str:
    return "room:" + room


def overlaps(a: Window, b: Window) -> bool:
    return a[0] < b[1] and b[0] < a[1]
