"""A learned intent and metric classifier beside the rules (issue 16).

The rules are exact where a message says what it wants in words they know; staff write in
their own words too ("not gonna make it in", "how full were the group rooms"). This model reads
word and character n-grams (scikit-learn: TF-IDF into a logistic regression, whose
probabilities are calibrated enough to threshold), trained at first use (well under a second)
on the development examples in data/intent_examples.tsv: every development message with the
names of people replaced by NAME (`build_intents.py` writes the file from the labelled
development sets; no held-out message is ever in it). At run time the parser masks the names
it found the same way.

`combine` decides between the rules and the model: it keeps the rules' intent when the model
agrees or is unsure, and takes the model's when the rules only guessed (their fallbacks) or the
model is sure and gives the rules' intent almost no chance.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

EXAMPLES = Path(__file__).parent / "data" / "intent_examples.tsv"
NAME = "NAME"
_DIGITS = re.compile(r"\d")

SURE = 0.5
"""The model's probability above which it overrides an intent the rules found by a cue..."""
UNLIKELY = 0.3
"""...when it gives the rules' intent less than this."""
FALLBACK_SURE = 0.4
"""Where the rules only guessed, the model's intent when it is at least this sure (gibberish
spreads the probabilities thin and stays `unknown`)."""
METRIC_SURE = 0.4
"""A report request that names no metric in words the rules know takes the model's above this."""
ASK = 0.5
"""The model gives another intent at least this much where the rules' stood..."""
ASK_DOUBT = 0.25
"""...and the rules' intent less than this: ask which."""
DOUBT = 0.2
"""A frame whose intent the model gives less than this is not sure (its confidence is capped at
ASKED_CONFIDENCE): on the development frames it caught most wrong intents and no right one."""
ASKED_CONFIDENCE = 0.5
DECLINE_SURE = 0.6
"""Where the rules only guessed, a "no" in other words ("those are all too early") at this."""
DECLINE_OVER_LOOK = 0.9
"""...and over a look-up the rules read ("nah none of those, she can only do evenings") at this."""
ESCALATE_SURE = 0.7
"""An emergency the model is this sure of over a request the rules read another way (with the
rules' intent below UNLIKELY): taken, with the frame's confidence capped at ASKED_CONFIDENCE so
the dialogue says it back before holding a slot."""
"""The confidence of a frame that has to ask (below the LLM fallback's threshold)."""
# Asking is for requests that change something or answer a different question; "yes"/"no",
# "help" and small talk are read in the conversation's context and never asked about.
_CONSEQUENTIAL = frozenset(
    {"book", "cancel", "reschedule", "staff_unavailable", "emergency_intake",
     "utilization_summary", "compliance_report"}
)  # fmt: skip
_NEVER_ASKED = frozenset({"confirm", "decline", "help", "unknown"})
# "yes" and "no" answer whatever is waiting (a booking, a cancellation): only words the rules
# read as such may say them, never a model's guess at a message they could not read.
_RULES_ONLY = frozenset({"confirm", "decline"})
# ...except a "no" the model is sure of where the rules only guessed: declining never acts (it
# keeps what a question asked about, or shows other options).
_DECLINES = frozenset({"decline"})
# Readings that only look something up; a "no" in their place loses nothing.
_ONLY_LOOKS = frozenset({"find_slot", "schedule_lookup", "help", "unknown"})
# An emergency takes the slots held back for emergencies: a request whose words the rules read
# (say "find an intake assessment today") is not escalated by a model's guess, nor asked about.
_ESCALATIONS = frozenset({"emergency_intake"})


@dataclass(frozen=True)
class Guess:
    intent: str
    probability: float
    runner_up: str
    runner_up_probability: float
    probabilities: dict[str, float]
    metric: str | None
    metric_probability: float


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    metric: str


def masked(low: str, names: list[tuple[int, int]]) -> str:
    """The lowercase message with each name span replaced by NAME and digits by 0."""
    out, last = [], 0
    for start, end in sorted(names):
        out.append(low[last:start])
        out.append(f" {NAME} ")
        last = end
    out.append(low[last:])
    return _DIGITS.sub("0", "".join(out))


def _pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"[\w']+|[^\w\s]")),  # nosec  # B106: a tokenizer's regex, not a password (bare: an id warns on the outer call)
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ]
    )  # fmt: skip
    classifier = LogisticRegression(C=8.0, max_iter=3000, class_weight="balanced")
    return Pipeline([("features", features), ("classifier", classifier)])


class _Scorer:
    """A fitted pipeline's probabilities for one message, computed directly from its fitted
    parts: the same n-grams (the vectorizers' own analyzers), TF-IDF weights, L2 norms and
    softmax as `Pipeline.predict_proba`, without its per-call validation and joblib dispatch,
    which cost about 25 ms a message where the arithmetic costs well under one."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.classes: list[str] = [str(c) for c in pipeline.classes_]
        classifier: LogisticRegression = pipeline.named_steps["classifier"]
        coef = np.asarray(classifier.coef_, dtype=np.float64)
        self.intercept = np.asarray(classifier.intercept_, dtype=np.float64)
        self.binary = len(self.classes) <= 2
        # Per vectorizer: its analyzer, n-gram -> row of `weights`; its idf; the classifier's
        # weights for its n-grams (one row per n-gram, one column per class).
        self.parts: list[tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, np.ndarray]]
        self.parts = []
        offset = 0
        for _, vectorizer in pipeline.named_steps["features"].transformer_list:
            size = len(vectorizer.vocabulary_)
            weights = np.ascontiguousarray(coef[:, offset : offset + size].T)
            self.parts.append(
                (
                    vectorizer.build_analyzer(),
                    dict(vectorizer.vocabulary_),
                    vectorizer.idf_,
                    weights,
                )
            )
            offset += size

    def probabilities(self, text: str) -> np.ndarray:
        decision = self.intercept.copy()
        for analyze, vocabulary, idf, weights in self.parts:
            counts = Counter(vocabulary[g] for g in analyze(text) if g in vocabulary)
            if not counts:
                continue
            rows = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            x = (np.log(tf) + 1.0) * idf[rows]  # sublinear tf times idf...
            x /= np.sqrt(x @ x)  # ...under the vectorizer's L2 norm
            decision += x @ weights[rows]
        if self.binary:  # LogisticRegression's one-column case: the logistic of the score
            p = 1.0 / (1.0 + np.exp(-decision))
            return np.concatenate([1.0 - p, p])
        shifted = np.exp(decision - decision.max())
        return shifted / shifted.sum()


class IntentModel:
    def __init__(self, examples: list[Example]) -> None:
        self.intents = _pipeline().fit([e.text for e in examples], [e.intent for e in examples])
        with_metric = [e for e in examples if e.metric]
        self.metrics = _pipeline().fit(
            [e.text for e in with_metric], [e.metric for e in with_metric]
        )
        self._intents = _Scorer(self.intents)
        self._metrics = _Scorer(self.metrics)

    def guess(self, text: str) -> Guess:
        probs = self._intents.probabilities(text)
        ranked = sorted(zip(self._intents.classes, probs, strict=True), key=lambda p: -p[1])
        metric_probs = self._metrics.probabilities(text)
        m = int(metric_probs.argmax())
        return Guess(
            intent=ranked[0][0],
            probability=float(ranked[0][1]),
            runner_up=ranked[1][0],
            runner_up_probability=float(ranked[1][1]),
            probabilities={k: float(v) for k, v in ranked},
            metric=self._metrics.classes[m],
            metric_probability=float(metric_probs[m]),
        )


def read_examples(path: Path = EXAMPLES) -> list[Example]:
    with path.open(newline="") as fh:
        return [Example(r["text"], r["intent"], r["metric"]) for r in csv.DictReader(fh, delimiter="\t")]  # fmt: skip


@lru_cache(maxsize=1)
def _shipped() -> IntentModel:
    return IntentModel(read_examples())


_in_use: IntentModel | None = None
_enabled = True


def model() -> IntentModel | None:
    """The model the parser consults: trained once per process from the shipped development
    examples, unless a measurement put another in place (`use_model`); None when switched off."""
    if not _enabled:
        return None
    return _in_use or _shipped()


def use_model(replacement: IntentModel | None, *, enabled: bool = True) -> None:
    """For measurements: consult `replacement` (a model trained on part of the development
    set: cross-validation), the shipped model again (None), or no model (enabled=False)."""
    global _in_use, _enabled
    _in_use, _enabled = replacement, enabled


def alternatives(chosen: str, guess: Guess) -> list[str] | None:
    """The two readings to ask between, when the rules' intent stood against a model that
    reads the message another way and either reading would act or report."""
    other = guess.intent
    if other == chosen or guess.probability < ASK:
        return None
    if guess.probabilities.get(chosen, 0.0) >= ASK_DOUBT:
        return None
    pair = {chosen, other}
    if pair & _NEVER_ASKED or not pair & _CONSEQUENTIAL:
        return None
    if other in _ESCALATIONS and chosen in ("find_slot", "book", "schedule_lookup"):
        return None
    return [chosen, other]


def combine(rules_intent: str, guessed_by_fallback: bool, guess: Guess) -> str:
    """The intent of the frame: the rules' unless the model clearly knows better."""
    if guess.intent == rules_intent:
        return rules_intent
    if guess.intent in _DECLINES and (
        (guessed_by_fallback and guess.probability >= DECLINE_SURE)
        or (
            rules_intent in _ONLY_LOOKS
            and guess.probability >= DECLINE_OVER_LOOK
            and guess.probabilities.get(rules_intent, 0.0) < UNLIKELY
        )
    ):
        return guess.intent  # "those are all too early": a "no" keeps things as they are
    if guess.intent in _RULES_ONLY:
        return rules_intent
    if guess.intent in _ESCALATIONS and not guessed_by_fallback:
        # An ordinary request the rules read is made an emergency only when the model is all
        # but certain, and the parser then says it back before any slot is held (`escalated`).
        if not escalated(rules_intent, guessed_by_fallback, guess):
            return rules_intent
        return guess.intent
    if guessed_by_fallback and guess.probability >= FALLBACK_SURE:
        return guess.intent
    if guess.probability >= SURE and guess.probabilities.get(rules_intent, 0.0) < UNLIKELY:
        return guess.intent
    return rules_intent


def escalated(rules_intent: str, guessed_by_fallback: bool, guess: Guess) -> bool:
    """The model made an emergency of a request whose words the rules read as another."""
    return (
        guess.intent in _ESCALATIONS
        and guess.intent != rules_intent
        and not guessed_by_fallback
        and guess.probability >= ESCALATE_SURE
        and guess.probabilities.get(rules_intent, 0.0) < UNLIKELY
    )
