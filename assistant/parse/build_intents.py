"""Regenerate data/intent_examples.tsv, the intent model's training examples (run by hand).

    python -m assistant.parse.build_intents

Reads the DEVELOPMENT sets only — tests/nlu/data/labelled.yaml, dev_paraphrases.yaml and the
independent writers' development frames dev_frames_*.yaml — and
masks the names the parser finds (with the test roster) as NAME, exactly as the parser masks
them at run time. The held-out sets (tests/nlu/data/heldout_*.yaml) are never read here: they
measure the model, they do not teach it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from assistant.parse import intents
from assistant.parse.parser import Parser

ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT = ("labelled.yaml", "dev_paraphrases.yaml", "dev_frames_*.yaml")


def main() -> None:
    from tests.nlu import labelled
    from tests.nlu.roster_data import roster

    parser = Parser(roster())
    rows = []
    data = ROOT / "tests" / "nlu" / "data"
    for path in (p for name in DEVELOPMENT for p in sorted(data.glob(name))):
        for case in labelled.load(path):
            rows.append(
                {
                    "text": parser.model_text(case.text, case.now),
                    "intent": case.expected["intent"],
                    "metric": case.expected["metric"] or "",
                }
            )
    with intents.EXAMPLES.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["text", "intent", "metric"], delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} examples written to {intents.EXAMPLES}")


if __name__ == "__main__":
    main()
