"""Where things go on the board's grid: percentages along the time axis, and lanes for sessions
that overlap in one row (a clinician co-leading two groups, a room holding a group and a
drop-in). Presentation only: what is on the board is the use case's answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.usecases.board import Band, Block, Board, Row

STATUS_WORDS = {
    "proposed": "Proposed",
    "booked": "Booked",
    "checked_in": "Checked in",
    "attended": "Attended",
    "no_show": "No-show",
    "late_cancelled": "Late cancellation",
    "cancelled": "Cancelled",
}
BUTTON_WORDS = {"check_in": "Check in", "attended": "Attended", "no_show": "No-show"}
STATUS_MARKS = {"checked_in": "✓ ", "attended": "✔ ", "no_show": "✗ ", "proposed": "? "}
"""A sign before the status word, so status is never carried by colour alone."""


@dataclass(frozen=True)
class Placed:
    block: Block
    lane: int
    left: str
    width: str


@dataclass(frozen=True)
class PlacedBand:
    band: Band
    left: str
    width: str


@dataclass(frozen=True)
class LaidRow:
    row: Row
    blocks: list[Placed]
    bands: list[PlacedBand]
    lanes: int


def _pct(minutes: float, span: int) -> str:
    return f"{max(0.0, min(100.0, minutes * 100 / span)):.3f}%"


def _lay(row: Row, span: int) -> LaidRow:
    ends: list[int] = []  # per lane, the minute its last block ends
    placed = []
    for block in sorted(row.blocks, key=lambda b: (b.from_open, -b.minutes, b.id)):
        lane = next((i for i, end in enumerate(ends) if end <= block.from_open), len(ends))
        if lane == len(ends):
            ends.append(0)
        ends[lane] = block.from_open + block.minutes
        start = max(block.from_open, 0)
        placed.append(
            Placed(
                block, lane, _pct(start, span), _pct(block.from_open + block.minutes - start, span)
            )
        )
    bands = [PlacedBand(b, _pct(b.from_open, span), _pct(b.minutes, span)) for b in row.bands]
    return LaidRow(row, placed, bands, max(1, len(ends)))


def grid_context(result: Board) -> dict[str, Any]:
    span = max(60, result.span)
    hours = [
        {"label": f"{(result.open_minute + m) // 60:02d}:00", "left": _pct(m, span)}
        for m in range(0, span, 60)
    ]
    return {
        "board": result,
        "rows": [_lay(r, span) for r in result.rows],
        "hours": hours,
        "now_left": _pct(result.now_minute, span) if result.now_minute is not None else None,
        "status_words": STATUS_WORDS,
        "status_marks": STATUS_MARKS,
        "by_rooms": result.by == "rooms",
    }
