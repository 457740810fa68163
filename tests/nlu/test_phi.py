"""PHI redaction: the annotated corpus, placeholders, the RedactedText type, and no network."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap

import pytest

from assistant.phi import PlaceholderMap, RedactedText, Redactor, describe, redactor_for
from assistant.roster import Roster
from tests.nlu.phi_corpus import load, score
from tests.nlu.roster_data import roster


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return redactor_for(roster())


def test_corpus_is_large_and_annotated() -> None:
    samples = load()
    assert len(samples) >= 120
    kinds = {kind for s in samples for kind, _, _ in s.identifiers}
    for required in ("PATIENT", "PERSON", "DATE", "PHONE", "FAX", "EMAIL", "ADDRESS", "ZIP",
                     "SSN", "MRN", "MEMBER_ID", "CASE_NUMBER", "URL", "IP", "PLATE", "ACCOUNT"):  # fmt: skip
        assert required in kinds


def test_no_identifier_survives_and_other_words_do(redactor: Redactor) -> None:
    result = score(load(), lambda t: [(e.start, e.end) for e in redactor.redact(t).entities])
    print(json.dumps({k: v for k, v in result.items() if k != "leaks"}, indent=1))
    assert result["identifiers_surviving"] == 0, result["leaks"]
    assert result["kept_word_survival"] >= 0.95, result["lost_words"]


def test_scheduling_words_and_staff_names_are_kept(redactor: Redactor) -> None:
    text = "Book a 1:1 with Dr. Raman tomorrow at 2pm or Friday morning in Room 101 (90837)"
    assert redactor.redact(text).text == text


def test_placeholders_are_stable_within_a_conversation(redactor: Redactor) -> None:
    mapping = PlaceholderMap()
    first = redactor.redact("find a slot for Jamie Rivera, cell 555-201-7788", mapping)
    second = redactor.redact("actually jaime prefers texts at (555) 201-7788", mapping)
    assert first.text == "find a slot for <PATIENT_1>, cell <PHONE_1>"
    assert second.text == "actually <PATIENT_1> prefers texts at <PHONE_1>"
    assert mapping.patient_ids["<PATIENT_1>"] == ["p-rivera"]
    assert mapping.restore("Offer <PATIENT_1> Friday; call PHONE_1") == (
        "Offer Jamie Rivera Friday; call 555-201-7788"
    )
    assert mapping.restore("unknown <PATIENT_9>") == "unknown <PATIENT_9>"


def test_redacted_text_cannot_be_made_outside_the_redactor(redactor: Redactor) -> None:
    with pytest.raises(TypeError):
        RedactedText("Jamie Rivera")
    redacted = redactor.redact("slot for Jamie").text
    assert isinstance(redacted, RedactedText)
    assert not isinstance(redacted + " and Maria Lopez", RedactedText)


def test_describe_never_prints_original_values(redactor: Redactor) -> None:
    out = describe(redactor.redact("MRN 445566 for Maria Lopez, DOB 3/14/1988"))
    dumped = json.dumps(out)
    for value in ("445566", "Maria", "Lopez", "3/14/1988"):
        assert value not in dumped
    assert [e["type"] for e in out["entities"]] == ["MRN", "PATIENT", "DATE"]


def test_dob_context_uses_lemmas(redactor: Redactor) -> None:
    # the loose "3 14 62" form is only a date near a birth word ("born" lemmatizes to "bear")
    assert "<DATE_1>" in redactor.redact("she was born 3 14 62").text
    assert redactor.redact("group of 3 14 62 ok").text == "group of 3 14 62 ok"


def test_empty_roster_still_redacts_structure() -> None:
    red = redactor_for(Roster())
    text = red.redact("Mrs. Ortiz, 555-201-7788, DOB 1/2/1950").text
    assert text == "Mrs. <PERSON_1>, <PHONE_1>, DOB <DATE_1>"


def test_no_network_at_import_build_or_analysis() -> None:
    """A fresh interpreter with DNS and connections made to fail still builds and analyses,
    including an e-mail (the tldextract path)."""
    code = textwrap.dedent(
        """
        import socket
        calls = []
        def refuse(*args, **kwargs):
            calls.append(args[:1])
            raise OSError("network disabled in this test")
        socket.getaddrinfo = refuse
        socket.create_connection = refuse
        socket.socket.connect = lambda self, *a, **k: refuse(*a)
        from tests.nlu.roster_data import roster
        from assistant.phi import redactor_for
        red = redactor_for(roster())
        out = red.redact("email jrivera88@example.com or visit www.example.org, DOB 3/14/1962")
        assert out.text == "email <EMAIL_1> or visit <URL_1>, DOB <DATE_1>", out.text
        assert calls == [], calls
        print("ok")
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().endswith("ok")
    assert socket.getaddrinfo.__module__ == "socket"  # this process untouched
