"""Which held-out messages would reach a language model, and what it would see: prints JSON.

    python bench/nlu_llm_reach.py

Runs every frozen held-out message (tests/nlu/data/heldout_<writer>.yaml) through
`assistant.llm.understand` with a gateway whose model is a capturing fake (no network): a
message reaches it when the rules' frame is below the confidence threshold and changes no
record. Every captured payload is scanned for the roster's patient names and for digit runs
of seven or more (phone numbers, record numbers): the count must be 0.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage

from assistant.llm import Gateway, understand
from assistant.llm.fallback import CONFIDENCE_THRESHOLD
from assistant.phi import redactor_for
from bench.nlu_heldout import held_out_files
from tests.nlu import labelled
from tests.nlu.roster_data import FACILITY, roster
from tests.nlu.test_llm import ToolFake  # the fake chat model the gateway tests use


class Capture(BaseCallbackHandler):
    def __init__(self) -> None:
        self.prompts: list[str] = []

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        self.prompts += [str(m.content) for batch in messages for m in batch if m.type == "human"]


def _patient_words() -> set[str]:
    words = set()
    for patient in FACILITY["patients"]:
        words |= {w.lower() for w in re.findall(r"[A-Za-z']{3,}", patient["name"])}
    return words


def main() -> None:
    r = roster()
    answer = AIMessage(
        content="", tool_calls=[{"name": "SpanFrame", "args": {"intent": "unknown"}, "id": "c"}]
    )
    capture = Capture()
    model = ToolFake(messages=itertools.repeat(answer))
    gateway = Gateway(model, redactor_for(r), name="fake", timeout_s=5, callbacks=[capture])
    names = _patient_words()
    reached, leaks = Counter(), []
    total = named = 0
    for path in held_out_files():
        for case in labelled.load(path):
            total += 1
            before = len(capture.prompts)
            understand(case.text, roster=r, now=case.now, actor=case.actor, gateway=gateway)
            if len(capture.prompts) == before:
                continue
            reached[case.expected["intent"]] += 1
            raw = case.text.lower()
            named += any(re.search(rf"\b{re.escape(w)}\b", raw) for w in names)
            sent = capture.prompts[-1].lower()
            found = sorted(w for w in names if re.search(rf"\b{re.escape(w)}\b", sent))
            found += re.findall(r"\d[\d\s().-]{5,}\d", sent)
            found = [f for f in found if sum(ch.isdigit() for ch in f) >= 7 or f.isalpha()]
            if found:
                leaks.append({"writer": path.stem, "identifiers": found})
    print(
        json.dumps(
            {
                "messages": total,
                "threshold": CONFIDENCE_THRESHOLD,
                "reach_the_model": sum(reached.values()),
                "share": round(sum(reached.values()) / total, 4),
                "by_expected_intent": dict(sorted(reached.items())),
                "of_which_named_a_patient": named,
                "payloads_with_a_patient_identifier": len(leaks),
                "leaks": leaks[:20],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
