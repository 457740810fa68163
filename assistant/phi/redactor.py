"""Redaction: every identifier becomes a stable placeholder (`<PATIENT_1>`, `<DATE_1>`...) that
only local code can turn back into the original. The result type, `RedactedText`, can be made
here and nowhere else, which is what lets the LLM gateway refuse raw text by type.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from presidio_analyzer import RecognizerResult
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from assistant.phi.engine import analyzer
from assistant.phi.recognizers import ENTITIES, roster_recognizers
from assistant.roster import Roster

SCORE_THRESHOLD = 0.4
_MINT = object()  # only this module holds it, so only this module can mint RedactedText
PLACEHOLDER_RE = re.compile(r"<?\b(?P<label>[A-Z][A-Z_]*?)_(?P<n>\d+)\b>?")


class RedactedText(str):
    """Text that has been through the redactor. Concatenating it with anything gives a plain
    `str` again, so a payload can only stay 'redacted' by coming back through `Redactor`."""

    __slots__ = ()

    def __new__(cls, value: str, *, _mint: object = None) -> RedactedText:
        if _mint is not _MINT:
            raise TypeError("RedactedText is made only by assistant.phi.Redactor")
        return super().__new__(cls, value)


@dataclass(frozen=True)
class Entity:
    type: str
    start: int
    end: int
    score: float
    placeholder: str = ""


@dataclass
class PlaceholderMap:
    """One conversation's pseudonyms, kept server-side: placeholder → original words (and the
    patient ids a <PATIENT_n> stands for). Never put in a prompt."""

    originals: dict[str, str] = field(default_factory=dict)
    patient_ids: dict[str, list[str]] = field(default_factory=dict)
    _keys: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def placeholder(self, label: str, key: str, original: str) -> str:
        with self._lock:
            token = self._keys.get((label, key))
            if token is None:
                self._counts[label] = self._counts.get(label, 0) + 1
                token = f"<{label}_{self._counts[label]}>"
                self._keys[(label, key)] = token
                self.originals[token] = original
            return token

    def restore(self, text: str) -> str:
        """Put originals back; tolerant of '<PATIENT_1>' and 'PATIENT_1'. Unknown tokens stay."""

        def swap(m: re.Match[str]) -> str:
            token = f"<{m.group('label')}_{m.group('n')}>"
            return self.originals.get(token, m.group())

        return PLACEHOLDER_RE.sub(swap, text)


@dataclass(frozen=True)
class Redaction:
    text: RedactedText
    entities: list[Entity]
    mapping: PlaceholderMap


def _key(label: str, original: str, result: RecognizerResult) -> str:
    ids = (result.recognition_metadata or {}).get("patient_ids")
    if label == "PATIENT" and ids:
        return "|".join(ids)  # "Jamie", "jaime" and "Jamie Rivera" share one placeholder
    if label in ("PHONE", "FAX", "SSN", "MRN", "MEMBER_ID", "ACCOUNT", "ZIP", "ID"):
        return re.sub(r"\W", "", original).lower()
    return " ".join(original.lower().split())


def _resolve(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """No overlaps: the higher score wins, then the longer span (an address beats its ZIP)."""
    kept: list[RecognizerResult] = []
    for r in sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start)):
        if all(r.end <= k.start or r.start >= k.end for k in kept):
            kept.append(r)
    return sorted(kept, key=lambda r: r.start)


class Redactor:
    """Finds identifiers with Presidio and replaces them with placeholders (Presidio anonymizer
    with a custom operator per entity type)."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.engine = analyzer()
        self.extra = roster_recognizers(roster)
        self.anonymizer = AnonymizerEngine()

    def analyze(self, text: str) -> list[RecognizerResult]:
        results = self.engine.analyze(
            text=text,
            language="en",
            entities=list(ENTITIES),
            ad_hoc_recognizers=self.extra,
            score_threshold=SCORE_THRESHOLD,
        )
        results = [r for r in results if not _is_placeholder(text, r)]
        return _resolve(results)

    def redact(self, text: str, mapping: PlaceholderMap | None = None) -> Redaction:
        mapping = mapping if mapping is not None else PlaceholderMap()
        results = self.analyze(text)
        by_span: dict[tuple[int, int], str] = {}
        for r in results:
            original = text[r.start : r.end]
            token = mapping.placeholder(r.entity_type, _key(r.entity_type, original, r), original)
            by_span[(r.start, r.end)] = token
            ids = (r.recognition_metadata or {}).get("patient_ids")
            if r.entity_type == "PATIENT" and ids:
                mapping.patient_ids[token] = ids
        # Presidio's custom operator sees only the matched words, so look the token up by them.
        by_text = {text[a:b]: token for (a, b), token in by_span.items()}

        def operator(label: str) -> OperatorConfig:
            def replace(words: str) -> str:
                # Presidio may merge neighbours of one type ("Jamie" + "Rivera"): mint for them
                return by_text.get(words) or mapping.placeholder(label, words.lower(), words)

            return OperatorConfig("custom", {"lambda": replace})

        operators = {label: operator(label) for label in {r.entity_type for r in results}}
        anonymized = self.anonymizer.anonymize(
            text=text, analyzer_results=results, operators=operators
        )
        entities = [
            Entity(r.entity_type, r.start, r.end, round(r.score, 2), by_span[(r.start, r.end)])
            for r in results
        ]
        return Redaction(RedactedText(anonymized.text, _mint=_MINT), entities, mapping)

    def mint_checked(self, text: str) -> RedactedText:
        """Wrap text that holds only placeholders and words we wrote (a prompt around redacted
        input); refuses if any identifier is still in it."""
        leaks = self.leaks(text)
        if leaks:
            kinds = sorted({e.type for e in leaks})
            raise ValueError(f"identifiers still present: {', '.join(kinds)}")
        return RedactedText(text, _mint=_MINT)

    def leaks(self, text: str) -> list[Entity]:
        """Identifiers still present in text meant for a model (placeholders are fine)."""
        return [Entity(r.entity_type, r.start, r.end, r.score) for r in self.analyze(text)]


def _is_placeholder(text: str, r: RecognizerResult) -> bool:
    m = PLACEHOLDER_RE.fullmatch(text[r.start : r.end])
    if m:
        return True
    # a hit inside "<PATIENT_1>" (e.g. on "PATIENT") is part of the placeholder
    left = text.rfind("<", 0, r.start + 1)
    right = text.find(">", r.end - 1)
    return left != -1 and right != -1 and bool(PLACEHOLDER_RE.fullmatch(text[left : right + 1]))


def describe(redaction: Redaction) -> dict[str, Any]:
    """What `rota redact` prints: the redacted text and the spans, never the original values."""
    return {
        "text": str(redaction.text),
        "entities": [{"type": e.type, "start": e.start, "end": e.end} for e in redaction.entities],
    }
