"""Understanding on the development data only, per writer: prints JSON (never reads held-out files).

    python bench/nlu_dev.py                       shipped model: each development file
    python bench/nlu_dev.py --leave-writer-out    each writer's frames scored by a model trained
                                                  on every other development file (an unseen
                                                  writer, estimated without the held-out sets)
    python bench/nlu_dev.py --misses 40 [--file devwriter4] [--leave-writer-out]
                                                  the misses, grouped by kind (largest first)

A kind is the intent confusion ("reschedule->cancel") for a wrong intent, else the fields that
differ ("window", "session_type+window"). `--file` also scores a frames file that is not yet
development data (a new writer's, before it is trained on): `--file path/to/file.yaml`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.parse import intents, parser_for
from assistant.parse.build_intents import DEVELOPMENT, ROOT
from tests.nlu import labelled
from tests.nlu.roster_data import roster

DATA = ROOT / "tests" / "nlu" / "data"


def development_files() -> list[Path]:
    return [p for name in DEVELOPMENT for p in sorted(DATA.glob(name))]


def _kind(diff: dict[str, Any]) -> str:
    if "intent" in diff:
        want, got = diff["intent"]
        return f"{want}->{got}"
    return "+".join(sorted(diff))


def _score(cases: list[labelled.Case], misses: int) -> dict[str, Any]:
    result, _ = labelled.parse_and_score(cases)
    kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for miss in result["misses"]:
        kinds[_kind(miss["diff"])].append(miss)
    result["miss_kinds"] = dict(Counter({k: len(v) for k, v in kinds.items()}).most_common())
    if misses:
        result["misses"] = {
            k: v[:misses] for k, v in sorted(kinds.items(), key=lambda kv: -len(kv[1]))
        }
    else:
        del result["misses"]
    return result


def _examples(path: Path) -> list[intents.Example]:
    parser = parser_for(roster())
    return [
        intents.Example(
            parser.model_text(c.text, c.now), c.expected["intent"], c.expected["metric"] or ""
        )
        for c in labelled.load(path)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--misses", type=int, default=0)
    ap.add_argument("--file", action="append", default=[])
    ap.add_argument("--leave-writer-out", action="store_true")
    ap.add_argument("--rules-only", action="store_true")
    args = ap.parse_args()
    files = development_files()
    extra = [
        Path(f)
        if Path(f).exists()
        else DATA / (f if f.endswith(".yaml") else f"dev_frames_{f}.yaml")
        for f in args.file
    ]
    for path in extra:
        if path.name.startswith("heldout_"):
            sys.exit(f"{path}: held-out files are never read here")
    scored = extra or [p for p in files if p.name.startswith(("dev_frames_", "labelled"))]
    examples = {p: _examples(p) for p in files} if args.leave_writer_out else {}
    out: dict[str, Any] = {}
    for path in scored:
        if args.rules_only:
            intents.use_model(None, enabled=False)
        elif args.leave_writer_out and path.name.startswith("dev_frames_"):
            train = [e for p, ex in examples.items() if p != path for e in ex]
            intents.use_model(intents.IntentModel(train))
        else:
            intents.use_model(None)
        out[path.stem] = _score(labelled.load(path), args.misses)
    intents.use_model(None)
    frames = [v for k, v in out.items() if k.startswith("dev_frames_")]
    if frames:
        n = sum(v["messages"] for v in frames)
        out["all_writers"] = {
            "messages": n,
            "exact_frames": round(sum(v["exact_frames"] * v["messages"] for v in frames) / n, 4),
            "intent_accuracy": round(
                sum(v["intent_accuracy"] * v["messages"] for v in frames) / n, 4
            ),
        }
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
