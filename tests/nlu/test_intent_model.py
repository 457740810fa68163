"""The learned intent model: its fast scorer gives scikit-learn's own probabilities."""

from __future__ import annotations

import numpy as np

from assistant.parse import intents


def test_fast_scorer_gives_the_pipelines_probabilities() -> None:
    # The parser scores with arithmetic taken from the fitted pipeline (no per-call validation);
    # a drift from predict_proba would move every threshold in intents.py.
    model = intents.model()
    assert model is not None
    texts = [e.text for e in intents.read_examples()[::25]]
    texts += ["", "zzqx", "NAME NAME", "can u move NAME's 0pm to thurs?? 🙏", "ok"]
    for text in texts:
        for pipeline, scorer in ((model.intents, model._intents), (model.metrics, model._metrics)):
            want = pipeline.predict_proba([text])[0]
            got = scorer.probabilities(text)
            assert np.allclose(got, want, rtol=0, atol=1e-9), text
            assert int(got.argmax()) == int(want.argmax())


def _guess(probabilities: dict[str, float]) -> intents.Guess:
    ranked = sorted(probabilities.items(), key=lambda p: -p[1])
    return intents.Guess(
        ranked[0][0], ranked[0][1], ranked[1][0], ranked[1][1], dict(ranked), None, 0.0
    )


def test_a_sure_model_may_say_no_but_never_yes() -> None:
    # Declining keeps things as they are; a "yes" books, so only the rules' words say it.
    no = _guess({"decline": 0.9, "unknown": 0.05, "confirm": 0.05})
    yes = _guess({"confirm": 0.95, "unknown": 0.03, "decline": 0.02})
    assert intents.combine("unknown", True, no) == "decline"
    assert intents.combine("unknown", True, yes) == "unknown"
    assert intents.combine("book", False, no) == "book"  # the rules read a request
    assert intents.combine("find_slot", False, no) == "decline"  # a look-up loses nothing


def test_an_emergency_over_a_read_request_needs_a_sure_model_and_is_flagged() -> None:
    sure = _guess({"emergency_intake": 0.9, "find_slot": 0.05, "book": 0.05})
    unsure = _guess({"emergency_intake": 0.6, "find_slot": 0.35, "book": 0.05})
    assert intents.combine("find_slot", False, sure) == "emergency_intake"
    assert intents.escalated("find_slot", False, sure)  # the parser caps its confidence
    assert intents.combine("find_slot", False, unsure) == "find_slot"
    assert not intents.escalated("find_slot", False, unsure)
