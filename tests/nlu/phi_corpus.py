"""Loads the annotated PHI corpus and scores a redactor: identifiers that survive (must be 0)
and the share of other words kept (must be at least 95%)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "phi_corpus.txt"
_MARK = re.compile(r"\[\[(?P<type>[A-Z_]+):(?P<words>.+?)\]\]")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’]*")


@dataclass(frozen=True)
class Sample:
    text: str
    identifiers: list[tuple[str, int, int]]  # (type, start, end)


def load() -> list[Sample]:
    samples = []
    for line in DATA.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, spans, pos = [], [], 0
        for m in _MARK.finditer(line):
            text.append(line[pos : m.start()])
            start = sum(len(t) for t in text)
            text.append(m.group("words"))
            spans.append((m.group("type"), start, start + len(m.group("words"))))
            pos = m.end()
        text.append(line[pos:])
        samples.append(Sample("".join(text), spans))
    return samples


def score(samples: list[Sample], find: Callable[[str], list[tuple[int, int]]]) -> dict[str, Any]:
    """`find(text)` returns the redacted spans. An identifier survives when any of its letters or
    digits is outside every redacted span; a kept word is lost when any redacted span touches it."""
    leaks: list[dict[str, Any]] = []
    lost: list[str] = []
    kept_total = kept_ok = 0
    by_type: Counter[str] = Counter()
    for sample in samples:
        spans = find(sample.text)

        def covered(i: int, spans: list[tuple[int, int]] = spans) -> bool:
            return any(a <= i < b for a, b in spans)

        for kind, a, b in sample.identifiers:
            by_type[kind] += 1
            if not all(covered(i) for i in range(a, b) if sample.text[i].isalnum()):
                leaks.append({"type": kind, "words": sample.text[a:b], "text": sample.text})
        for m in _WORD.finditer(sample.text):
            if any(a < m.end() and m.start() < b for _, a, b in sample.identifiers):
                continue
            kept_total += 1
            if any(covered(i) for i in range(m.start(), m.end())):
                lost.append(m.group())
            else:
                kept_ok += 1
    return {
        "messages": len(samples),
        "identifiers": sum(by_type.values()),
        "identifiers_by_type": dict(sorted(by_type.items())),
        "identifiers_surviving": len(leaks),
        "kept_words": kept_total,
        "kept_word_survival": round(kept_ok / kept_total, 4) if kept_total else 1.0,
        "leaks": leaks,
        "lost_words": Counter(lost).most_common(),
    }
