"""Understanding on the frozen held-out sets of issue 16: prints JSON.

    python bench/nlu_heldout.py            (from the repository root)

Scores the parser on every tests/nlu/data/heldout_<writer>.yaml in the labelled shorthand
(written by independent writers from the contract, the session catalogue and the roster only;
never tuned on), per writer and together, by the rules alone and by the rules with the learned
intent model (assistant/parse/intents.py): exact frames, intent accuracy, per-intent and
per-field accuracy, and how many frames would act on a wrong intent. The development set
(tests/nlu/data/labelled.yaml) and the development writers' frames (dev_frames_*.yaml) are scored
beside it (the model is trained on both: in-sample). `--misses N` prints the first
N misses of each writer (for reading, never for copying into the parser).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.parse import intents
from tests.nlu import labelled

DATA = Path(__file__).resolve().parents[1] / "tests" / "nlu" / "data"
ACTING = {"book", "cancel", "reschedule", "staff_unavailable", "emergency_intake", "confirm"}


def held_out_files() -> list[Path]:
    # heldout_records.yaml is issue 11's set in another format (bench/nlu_records.py).
    return sorted(p for p in DATA.glob("heldout_*.yaml") if p.name != "heldout_records.yaml")


def _score(cases: list[labelled.Case], misses: int) -> dict[str, Any]:
    result, frames = labelled.parse_and_score(cases)
    wrong_action = Counter(
        f["intent"]
        for f, c in zip(frames, cases, strict=True)
        if f["intent"] != c.expected["intent"] and f["intent"] in ACTING
    )
    result["acts_on_wrong_intent"] = sum(wrong_action.values())
    result["intents_written"] = dict(sorted(Counter(c.expected["intent"] for c in cases).items()))
    result["misses"] = result["misses"][:misses]
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--misses", type=int, default=0)
    args = ap.parse_args()
    files = held_out_files()
    per_writer = {p.stem.removeprefix("heldout_"): labelled.load(p) for p in files}
    everything = [c for cases in per_writer.values() for c in cases]
    dev_frames = [c for p in sorted(DATA.glob("dev_frames_*.yaml")) for c in labelled.load(p)]
    out: dict[str, Any] = {}
    for name, enabled in (("rules_only", False), ("rules_and_model", True)):
        intents.use_model(None, enabled=enabled)
        out[name] = {
            "held_out": _score(everything, 0) if everything else None,
            "writers": {w: _score(cases, args.misses) for w, cases in per_writer.items()},
            "development": {
                k: v for k, v in _score(labelled.load(), 0).items() if k not in ("misses",)
            },
            "development_frames": {
                k: v for k, v in _score(dev_frames, 0).items() if k not in ("misses",)
            },
        }
    intents.use_model(None)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
