"""Loads tests/nlu/data/labelled.yaml (or a held-out file in the same shorthand) into (text, now, actor, expected frame) cases and scores a
parser against them: exact-frame rate, and accuracy per intent and per field."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from assistant.parse import parse
from assistant.parse.parser import CONTRACT_FIELDS
from tests.nlu.roster_data import roster

DATA = Path(__file__).parent / "data" / "labelled.yaml"
TZ = ZoneInfo("America/New_York")
# The request-frame contract's fields but how sure the parser was and which parser answered.
# Fields the parser adds beyond the contract (action, group, ...) are not scored: no writer of
# the contract can label them.
COMPARED = tuple(f for f in CONTRACT_FIELDS if f not in {"confidence", "parser"})
MENTION_KEYS = ("text", "id", "candidates")
"""A mention's contract keys; added ones (`new` on a person not yet on the roster) are not scored."""
_SHORT = {"i": "intent", "st": "session_type", "n": "needs", "d": "duration_minutes",
          "o": "option", "m": "metric"}  # fmt: skip


@dataclass(frozen=True)
class Case:
    text: str
    now: datetime
    actor: str | None
    expected: dict[str, Any]


def _mention(value: list[Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    mention: dict[str, Any] = {"text": value[0], "id": value[1]}
    if len(value) > 2:
        mention["candidates"] = sorted(value[2])
    return mention


def _time(value: str) -> str:
    if "T" in value:
        return datetime.fromisoformat(value).isoformat(timespec="seconds")
    local = datetime.fromisoformat(value).replace(tzinfo=TZ)
    return local.isoformat(timespec="seconds")


def load(path: Path = DATA) -> list[Case]:
    """The cases of a file in this shorthand (the labelled set, or a frozen held-out set)."""
    doc = yaml.safe_load(path.read_text())
    defaults = doc["defaults"]
    cases = []
    for raw in doc["cases"]:
        expected: dict[str, Any] = {f: None for f in COMPARED}
        expected["needs"] = []
        for short, name in _SHORT.items():
            if short in raw:
                expected[name] = raw[short]
        for short, name in (("p", "patient"), ("s", "staff"), ("r", "room")):
            expected[name] = _mention(raw.get(short))
        if "w" in raw:
            expected["window"] = {"start": _time(raw["w"][0]), "end": _time(raw["w"][1])}
        now = datetime.fromisoformat(raw.get("now", defaults["now"]))
        cases.append(Case(raw["t"], now, raw.get("as", defaults["as"]), expected))
    return cases


def comparable(frame: dict[str, Any]) -> dict[str, Any]:
    out = {f: frame.get(f) for f in COMPARED}
    for f in ("patient", "staff", "room"):
        if out[f]:
            out[f] = {k: out[f][k] for k in MENTION_KEYS if k in out[f]}
            if "candidates" in out[f]:
                out[f]["candidates"] = sorted(out[f]["candidates"])
    return out


def score(cases: list[Case], parse: Callable[[Case], dict[str, Any]]) -> dict[str, Any]:
    """Exact-frame rate, per-intent and per-field accuracy, and the misses (for reading)."""
    per_intent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_field = {f: 0 for f in COMPARED}
    exact = 0
    misses = []
    for case in cases:
        got = comparable(parse(case))
        ok = got == case.expected
        exact += ok
        bucket = per_intent[case.expected["intent"]]
        bucket[0] += ok
        bucket[1] += 1
        for f in COMPARED:
            per_field[f] += got[f] == case.expected[f]
        if not ok:
            diff = {f: (case.expected[f], got[f]) for f in COMPARED if got[f] != case.expected[f]}
            misses.append({"text": case.text, "diff": diff})
    n = len(cases)
    return {
        "messages": n,
        "exact_frames": round(exact / n, 4),
        "per_intent": {k: round(v[0] / v[1], 3) for k, v in sorted(per_intent.items())},
        "per_field": {k: round(v / n, 4) for k, v in per_field.items()},
        "misses": misses,
    }


def parse_and_score(cases: list[Case]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every case parsed once with the test roster: its score (with `intent_accuracy`) and the
    frames, in the cases' order."""
    r = roster()
    frames = [parse(c.text, roster=r, now=c.now, actor=c.actor) for c in cases]
    by_case = {id(c): f for c, f in zip(cases, frames, strict=True)}
    result = score(cases, lambda c: by_case[id(c)])
    right = sum(f["intent"] == c.expected["intent"] for f, c in zip(frames, cases, strict=True))
    result["intent_accuracy"] = round(right / len(cases), 4)
    return result, frames
