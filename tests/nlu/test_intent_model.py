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
