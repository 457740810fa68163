"""The Presidio analyzer, built once per process and fully offline.

Two network traps are closed before anything is analysed (../shared/notes/stack.md §2):
* tldextract would fetch the Public Suffix List on first use: its global extractor is replaced
  by one that only reads the snapshot bundled with the package;
* Presidio's spaCy engine would `spacy.cli.download` a model it cannot find: ours never names a
  model. It builds `spacy.blank("en")` with the lookup lemmatizer from spacy-lookups-data in
  memory (lemmas make context words work: "born" → "bear"). There is no statistical NER: names
  come from the roster, the gazetteer and structure (see recognizers.py).
"""

from __future__ import annotations

import threading

import spacy
import tldextract
import tldextract.tldextract as _tldextract_module
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from spacy.language import Language

from assistant.phi.recognizers import base_recognizers

_LOCK = threading.Lock()
_ENGINE: AnalyzerEngine | None = None


def disable_tldextract_network() -> None:
    """Make every tldextract use read the bundled suffix-list snapshot only."""
    _tldextract_module.TLD_EXTRACTOR = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
    )


def blank_english() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


class OfflineSpacyEngine(SpacyNlpEngine):
    """A SpacyNlpEngine whose `load` builds the pipeline in memory instead of downloading."""

    def __init__(self) -> None:
        super().__init__(
            models=[{"lang_code": "en", "model_name": "blank-en-lookup"}],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=["*"]),
        )

    def load(self) -> None:
        self.nlp = {"en": blank_english()}


def analyzer() -> AnalyzerEngine:
    """The process-wide analyzer (thread-safe lazy singleton; ~1.5 s to build the first time)."""
    global _ENGINE
    if _ENGINE is None:
        with _LOCK:
            if _ENGINE is None:
                disable_tldextract_network()
                registry = RecognizerRegistry(supported_languages=["en"])
                for recognizer in base_recognizers():
                    registry.add_recognizer(recognizer)
                _ENGINE = AnalyzerEngine(
                    registry=registry, nlp_engine=OfflineSpacyEngine(), supported_languages=["en"]
                )
    return _ENGINE
