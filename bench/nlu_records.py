"""Held-out benchmark for the living-record actions of issue 11 (admit, discharge, consents,
groups, rooms, attendance). Prints one JSON document.

    .venv/bin/python bench/nlu_records.py [--data tests/nlu/data/heldout_records.yaml]

The messages were written by someone who never read the parser, from the request-frame contract
and the demo 's' roster only; they are never to be tuned on (see the file's header). Each is
parsed with the parser's public entry, `assistant.parse.parse`, against the demo 's' roster
(seed 7, start 2026-11-30, as the tests' `demo_data`) at the set's fixed now, as the staff
member in the item's `as`.

Figures:
- action: exact-match rate over every item (null included), per-action precision/recall;
- intent: exact-match rate;
- slots: per labelled field (patient, staff, room, group, day, at, minutes, bulk, except_*,
  details.*), correct / labelled, scored on every item that labels the field;
- misses: every item with a wrong action, intent or labelled slot (message, expected, got).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.parse import parse
from assistant.roster import Roster
from clinic.demo import generate_demo

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "tests/nlu/data/heldout_records.yaml"
DEMO_START = date(2026, 11, 30)  # as tests/conftest.py's demo_data
FRAME_KEYS = (
    "intent",
    "action",
    "patient",
    "staff",
    "room",
    "group",
    "details",
    "day",
    "at",
    "minutes",
    "bulk",
    "except_patients",
    "except_action",
)
FUZZY_DETAILS = {"reason", "recipient", "information", "name"}
# Free-text details: a careful reader's words and the parser's may differ in length
# ("completed treatment" vs "completed"), so either containing the other counts.


def _norm(value: Any) -> str:
    return re.sub(r"[^a-z0-9.]+", " ", str(value).lower()).strip()


def _mention_id(value: Any) -> Any:
    """The id of a mention ({text, id}), or the value itself when it is already an id."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def _flatten(details: dict[str, Any], prefix: str = "details.") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, dict) and key == "authorization":
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _got_detail(frame: dict[str, Any], path: str) -> Any:
    """The frame's value at `details.a.b`. An authorization's fields are also taken from the top
    of `details` (with add_authorization the details may be the authorization itself): the
    shape is the parser's choice, the bench scores what it understood."""
    details: Any = frame.get("details") or {}
    node: Any = details
    for part in path.split(".")[1:]:
        if not isinstance(node, dict):
            node = None
            break
        node = node.get(part)
    if node is None and path.startswith("details.authorization.") and isinstance(details, dict):
        node = details.get(path.rsplit(".", 1)[1])
    return node


def _same_time(expected: str, got: Any) -> bool:
    return isinstance(got, str) and got[:5] == expected


def _slot_ok(field: str, expected: Any, frame: dict[str, Any]) -> tuple[bool, Any]:
    """Whether the frame fills `field` as labelled, and what it filled."""
    if field.startswith("details."):
        got = _got_detail(frame, field)
        leaf = field.rsplit(".", 1)[1]
        if leaf == "primary_clinician":
            return _mention_id(got) == expected, got
        if leaf == "needs":
            return sorted(got or []) == sorted(expected), got
        if leaf in FUZZY_DETAILS:
            if not got:
                return False, got
            e, g = _norm(expected), _norm(got)
            return bool(e and g and (e in g or g in e)) if leaf != "name" else e == g, got
        if leaf == "payer":
            return got is not None and _norm(got).replace(" ", "") == _norm(expected).replace(
                " ", ""
            ), got
        return got == expected, got
    got = frame.get(field)
    if field in ("patient", "staff", "room"):
        return _mention_id(got) == expected, got
    if field == "group":
        text = (got or {}).get("text") if isinstance(got, dict) else got
        return bool(text) and _norm(expected) in _norm(text).replace("-", " "), got
    if field == "at":
        return (got is None) if expected is None else _same_time(expected, got), got
    if field == "except_patients":
        ids = sorted(str(_mention_id(m)) for m in (got or []))
        return ids == sorted(expected), got
    if field == "bulk":
        return bool(got) == bool(expected), got
    return got == expected, got


def _expected_slots(item: dict[str, Any]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    for key in (
        "patient",
        "staff",
        "room",
        "group",
        "day",
        "at",
        "minutes",
        "bulk",
        "except_patients",
        "except_action",
    ):
        if key in item:
            slots[key] = item[key]
    slots.update(_flatten(item.get("details") or {}))
    return slots


def run(data_path: Path) -> dict[str, Any]:
    data = yaml.safe_load(data_path.read_text(encoding="utf-8"))
    facility = generate_demo("s", seed=7, start=DEMO_START)
    roster = Roster.from_facility_file(facility)
    tz = ZoneInfo(facility["facility"]["timezone"])
    now = datetime.fromisoformat(data["now"]).astimezone(tz)

    items = data["items"]
    action_hits = intent_hits = 0
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    slot_total: Counter[str] = Counter()
    slot_hits: Counter[str] = Counter()
    misses: list[dict[str, Any]] = []
    errors = 0
    negatives_right = 0

    for item in items:
        try:
            frame = parse(item["text"], roster=roster, now=now, actor=item.get("as"))
        except Exception as exc:  # a crash is a miss, not the end of the bench
            errors += 1
            frame = {"error": f"{type(exc).__name__}: {exc}"}
        want, got_action = item["action"], frame.get("action")
        action_ok = got_action == want
        action_hits += action_ok
        negatives_right += action_ok and want is None
        if action_ok:
            if want is not None:
                tp[want] += 1
        else:
            if want is not None:
                fn[want] += 1
            if got_action is not None:
                fp[got_action] += 1
        intent_ok = frame.get("intent") == item["intent"]
        intent_hits += intent_ok

        wrong: dict[str, Any] = {}
        for field, expected in _expected_slots(item).items():
            slot_total[field] += 1
            ok, got = _slot_ok(field, expected, frame)
            slot_hits[field] += ok
            if not ok:
                wrong[field] = {"expected": expected, "got": got}
        if not action_ok or not intent_ok or wrong:
            misses.append(
                {
                    "message": item["text"],
                    "as": item.get("as"),
                    "expected": {k: v for k, v in item.items() if k not in ("text", "as")},
                    "got": {k: frame.get(k) for k in FRAME_KEYS if frame.get(k) is not None}
                    | ({"error": frame["error"]} if "error" in frame else {}),
                    "wrong": (["action"] if not action_ok else [])
                    + (["intent"] if not intent_ok else [])
                    + sorted(wrong),
                }
            )

    labels = sorted({i["action"] for i in items if i["action"]} | set(fp))
    per_action = {}
    for label in labels:
        p_den, r_den = tp[label] + fp[label], tp[label] + fn[label]
        per_action[label] = {
            "support": r_den,
            "precision": round(tp[label] / p_den, 3) if p_den else None,
            "recall": round(tp[label] / r_den, 3) if r_den else None,
        }
    negatives = [i for i in items if i["action"] is None]
    slots = {
        field: {
            "accuracy": round(slot_hits[field] / slot_total[field], 3),
            "labelled": slot_total[field],
        }
        for field in sorted(slot_total)
    }
    all_slots = sum(slot_total.values())
    return {
        "data": str(data_path.name),
        "items": len(items),
        "now": data["now"],
        "parse_errors": errors,
        "action_exact_match": round(action_hits / len(items), 3),
        "intent_exact_match": round(intent_hits / len(items), 3),
        "no_action_items": len(negatives),
        "no_action_items_left_alone": negatives_right,
        "slot_accuracy_overall": round(sum(slot_hits.values()) / all_slots, 3)
        if all_slots
        else None,
        "per_action": per_action,
        "slots": slots,
        "items_fully_right": len(items) - len(misses),
        "misses": misses,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    print(json.dumps(run(args.data), indent=1, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
