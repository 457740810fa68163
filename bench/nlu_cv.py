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

ACTING = {"book", "cancel", "reschedule", "staff_unavailable", "emergency_intake"}


def development() -> list[labelled.Case]:
    cases: list[labelled.Case] = []
    # The same files the shipped model trains on (build_intents.DEVELOPMENT: names and globs).
    data = ROOT / "tests" / "nlu" / "data"
    for path in (p for name in DEVELOPMENT for p in sorted(data.glob(name))):
        cases += labelled.load(path)
    return cases


def _score(cases: list[labelled.Case], frames: list[dict]) -> dict[str, Any]:
    """Intent and metric only: the paraphrases label nothing else."""
    per_intent: dict[str, list[int]] = {}
    metric_ok = metric_n = asked = wrong_act = 0
    for case, frame in zip(cases, frames, strict=True):
        want = case.expected["intent"]
        bucket = per_intent.setdefault(want, [0, 0])
        bucket[0] += frame["intent"] == want
        bucket[1] += 1
        if case.expected["metric"]:
            metric_n += 1
            metric_ok += frame["metric"] == case.expected["metric"]
        if frame.get("alternatives"):
            asked += 1
        elif frame["intent"] != want and frame["intent"] in ACTING:
            wrong_act += 1
    right = sum(v[0] for v in per_intent.values())
    return {
        "messages": len(cases),
        "intent_accuracy": round(right / len(cases), 4),
        "metric_accuracy": round(metric_ok / metric_n, 4) if metric_n else None,
        "asked_which": asked,
        "acts_on_wrong_intent": wrong_act,
        "per_intent": {k: round(v[0] / v[1], 3) for k, v in sorted(per_intent.items())},
    }


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
