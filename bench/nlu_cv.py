"""The intent model, measured by cross-validation on the development set only: prints JSON.

    python bench/nlu_cv.py [--folds 5]

Each fold's messages are parsed with a model trained on the other folds (never on themselves),
and scored like the held-out sets; "rules" is the parser with the model switched off. This is
where the thresholds of assistant/parse/intents.py are chosen: the held-out sets
(bench/nlu_heldout.py) are only read for the report.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.parse import intents, parse, parser_for
from assistant.parse.build_intents import DEVELOPMENT, ROOT
from tests.nlu import labelled
from tests.nlu.roster_data import roster


def development() -> list[labelled.Case]:
    cases: list[labelled.Case] = []
    for name in DEVELOPMENT:
        path = ROOT / "tests" / "nlu" / "data" / name
        if path.exists():
            cases += labelled.load(path)
    return cases


def _summary(result: dict[str, Any], cases: list[labelled.Case], frames: list[dict]) -> dict:
    ok = sum(f["intent"] == c.expected["intent"] for f, c in zip(frames, cases, strict=True))
    return {
        "messages": len(cases),
        "exact_frames": result["exact_frames"],
        "intent_accuracy": round(ok / len(cases), 4),
        "per_intent": result["per_intent"],
        "per_field": result["per_field"],
    }


def _score(cases: list[labelled.Case], frames: list[dict]) -> dict[str, Any]:
    by_case = {id(c): f for c, f in zip(cases, frames, strict=True)}
    return _summary(labelled.score(cases, lambda c: by_case[id(c)]), cases, frames)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    r = roster()
    parser = parser_for(r)
    cases = development()
    order = list(range(len(cases)))
    random.Random(args.seed).shuffle(order)
    fold_of = {i: k % args.folds for k, i in enumerate(order)}
    texts = [parser.model_text(c.text, c.now) for c in cases]

    def run(case: labelled.Case) -> dict[str, Any]:
        return parse(case.text, roster=r, now=case.now, actor=case.actor)

    intents.use_model(None, enabled=False)
    rules = [run(c) for c in cases]
    learned: list[dict[str, Any] | None] = [None] * len(cases)
    for fold in range(args.folds):
        train = [
            intents.Example(texts[i], c.expected["intent"], c.expected["metric"] or "")
            for i, c in enumerate(cases)
            if fold_of[i] != fold
        ]
        intents.use_model(intents.IntentModel(train))
        for i, c in enumerate(cases):
            if fold_of[i] == fold:
                learned[i] = run(c)
    intents.use_model(None)
    frames = [f for f in learned if f is not None]
    print(
        json.dumps(
            {
                "folds": args.folds,
                "thresholds": {
                    "sure": intents.SURE,
                    "unlikely": intents.UNLIKELY,
                    "fallback_sure": intents.FALLBACK_SURE,
                    "metric_sure": intents.METRIC_SURE,
                },
                "rules_only": _score(cases, rules),
                "rules_and_model": _score(cases, frames),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
