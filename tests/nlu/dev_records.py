"""Scores the parser on tests/nlu/data/dev_records.yaml (living-record and attendance requests):
action exact match over every message, and slot accuracy over the slots the set labels.

`python -m tests.nlu.dev_records` prints the figures and the misses."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from assistant.parse import parse
from assistant.roster import Roster

DATA = Path(__file__).parent / "data" / "dev_records.yaml"
DEMO_START = date(2026, 11, 30)  # as tests/conftest.py's demo_data


@dataclass(frozen=True)
class Case:
    text: str
    now: datetime
    actor: str
    action: str | None
    slots: dict[str, Any]


def load() -> list[Case]:
    doc = yaml.safe_load(DATA.read_text())
    defaults = doc["defaults"]
    out = []
    for raw in doc["cases"]:
        slots = {k: v for k, v in raw.items() if k not in {"t", "a", "now", "as"}}
        now = datetime.fromisoformat(raw.get("now", defaults["now"]))
        out.append(Case(raw["t"], now, raw.get("as", defaults["as"]), raw["a"], slots))
    return out


@cache
def demo_roster() -> Roster:
    from clinic.demo import generate_demo

    return Roster.from_facility_file(generate_demo("s", seed=7, start=DEMO_START))


def _id(mention: Any) -> str | None:
    return mention.get("id") if isinstance(mention, dict) else None


def _group_words(text: str | None) -> str:
    words = " ".join((text or "").lower().replace("-", " ").split())
    words = words.removeprefix("the ")
    return words.removesuffix(" group").removesuffix(" skills") if words else ""


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out |= _flatten(f"{prefix}.{k}", v)
        return out
    return {prefix: value}


def slot_values(frame: dict[str, Any], wanted: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """(expected, got) per labelled slot."""
    out: dict[str, tuple[Any, Any]] = {}
    for key, expected in wanted.items():
        if key == "i":
            out["intent"] = (expected, frame.get("intent"))
        elif key in ("p", "s", "r"):
            name = {"p": "patient", "s": "staff", "r": "room"}[key]
            out[name] = (expected, _id(frame.get(name)))
        elif key == "g":
            out["group"] = (
                _group_words(expected),
                _group_words((frame.get("group") or {}).get("text")),
            )
        elif key == "d":
            got = _flatten("details", frame.get("details") or {})
            for k, v in _flatten("details", expected).items():
                out[k] = (
                    None if v is None else str(v),
                    None if got.get(k) is None else str(got.get(k)),
                )
        elif key == "ex":
            out["except_patients"] = (
                expected,
                [_id(m) for m in frame.get("except_patients") or []],
            )
        else:
            name = {"min": "minutes", "exa": "except_action"}.get(key, key)
            out[name] = (expected, frame.get(name))
    return out


def score(cases: list[Case], run: Callable[[Case], dict[str, Any]]) -> dict[str, Any]:
    actions = slots = slots_ok = 0
    misses = []
    for case in cases:
        frame = run(case)
        action_ok = frame.get("action") == case.action
        actions += action_ok
        values = slot_values(frame, case.slots)
        wrong = {k: v for k, v in values.items() if v[0] != v[1]}
        slots += len(values)
        slots_ok += len(values) - len(wrong)
        if not action_ok or wrong:
            if not action_ok:
                wrong = {"action": (case.action, frame.get("action"))} | wrong
            misses.append({"text": case.text, "wrong": wrong})
    acting = [c for c in cases if c.action]
    false_actions = sum(
        1 for c in cases for m in misses
        if m["text"] == c.text and "action" in m["wrong"] and m["wrong"]["action"][1] is not None
    )  # fmt: skip
    return {
        "messages": len(cases),
        "acting": len(acting),
        "action_exact": round(actions / len(cases), 4),
        "slot_accuracy": round(slots_ok / slots, 4) if slots else 1.0,
        "wrong_actions_offered": false_actions,
        "misses": misses,
    }


def run_parser(case: Case) -> dict[str, Any]:
    return parse(case.text, roster=demo_roster(), now=case.now, actor=case.actor)


if __name__ == "__main__":
    result = score(load(), run_parser)
    if "-q" not in sys.argv:
        for miss in result["misses"]:
            print(json.dumps(miss, ensure_ascii=False, default=str))
    print({k: v for k, v in result.items() if k != "misses"})
