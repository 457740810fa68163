"""Rooms for pooled sessions, after solving.

The plan model only counts rooms per kind and size at each slot (enough rooms of the kind are
free); here each session gets an actual room. Sessions are taken in start order and given the
smallest free room that fits, which is exact for identical rooms (interval colouring) and almost
always succeeds otherwise; a session left without a room is reported, never double-booked.
"""

from __future__ import annotations

from dataclasses import dataclass

from solver.feasibility import Feasibility
from solver.model import SessionKind


@dataclass(frozen=True)
class RoomNeed:
    key: int
    kind: SessionKind
    preferred_kind: str
    size: int
    start: int
    end: int


def assign_rooms(feas: Feasibility, needs: list[RoomNeed]) -> dict[int, str | None]:
    """key -> room id (None when no room could be found). Marks the rooms busy in `feas`."""
    out: dict[int, str | None] = {}
    for need in sorted(needs, key=lambda n: (n.start, -n.size, n.key)):
        choices = feas.room_choices(need.kind, need.size)
        # The kind the model counted against first, then the session type's other kinds.
        choices.sort(key=lambda pair: (pair[1].kind != need.preferred_kind, pair[0]))
        found = feas.free_room(choices, need.start, need.end)
        out[need.key] = found[1].id if found else None
        if found:
            feas.busy.add_room(found[1].id, need.start, need.end)
    return out
