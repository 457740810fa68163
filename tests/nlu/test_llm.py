"""The LLM gateway: no identifier ever reaches a model, raw text is refused, and a timeout or an
outage still yields the deterministic frame. Fake chat models capture every prompt."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from sqlalchemy import select

from assistant.llm import (
    AuditRecord,
    Gateway,
    LLMConfigError,
    db_audit_sink,
    load_prompt,
    summarize,
    understand,
)
from assistant.parse import parse
from assistant.phi import Redactor, redactor_for
from assistant.roster import Roster
from tests.nlu.roster_data import roster

NOW = datetime.fromisoformat("2026-12-02T10:15:00-05:00")
RAW = ["Jamie", "Rivera", "jaime", "Maria", "Lopez", "555-201-7788", "4455661", "445566",
       "12/24/2026", "3/14/1962", "CR-2024-1193", "Carmen"]  # fmt: skip
# Rules cannot read this one with confidence (jargon), so it goes to the model.
FUZZY = (
    "yo can u sort jaime rivera (MRN 4455661, cell 555-201-7788, dob 3/14/1962) w Dr. Raman "
    "on 12/24/2026 at 2pm, mom Carmen said the flux capacitor thingy is sorted"
)


class ToolFake(GenericFakeChatModel):
    """GenericFakeChatModel + bind_tools, so with_structured_output works (stack.md §3)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ToolFake:
        return self


class SlowFake(ToolFake):
    """Answers only when `release` is set (or after a minute): whether the caller waited for it
    is a fact (`answered`), not a timing that a busy machine can stretch."""

    release: Any = None
    called: Any = None
    answered: bool = False

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        self.called.set()
        self.release.wait(60)
        self.answered = True
        return super()._generate(*args, **kwargs)


class DownFake(ToolFake):
    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("provider unreachable")


class Capture(BaseCallbackHandler):
    """Sees the final messages of every call; raise_error makes it a tripwire, not a log line."""

    raise_error = True

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        for batch in messages:
            self.prompts += [str(m.content) for m in batch]
        for text in self.prompts:
            for raw in RAW:
                if raw.lower() in text.lower():
                    raise AssertionError(f"identifier {raw!r} reached the model")


def span_answer(**args: Any) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": "SpanFrame", "args": args, "id": "c1"}])


@pytest.fixture(scope="module")
def the_roster() -> Roster:
    return roster()


@pytest.fixture(scope="module")
def redactor(the_roster: Roster) -> Redactor:
    return redactor_for(the_roster)


def make_gateway(
    model: GenericFakeChatModel, redactor: Redactor, capture: Capture, records: list[AuditRecord]
) -> Gateway:
    return Gateway(model, redactor, name="fake", audit=records.append, timeout_s=0.5,
                   callbacks=[capture])  # fmt: skip


def test_fallback_parse_sees_only_placeholders_and_resolves_locally(
    the_roster: Roster, redactor: Redactor
) -> None:
    model = ToolFake(
        messages=iter(
            [
                span_answer(
                    intent="book",
                    patient="<PATIENT_1>",
                    staff="Dr. Raman",
                    when="<DATE_2> at 2pm",
                    session_type="individual",
                )
            ]
        )
    )
    capture, records = Capture(), []
    gateway = make_gateway(model, redactor, capture, records)
    frame = understand(FUZZY, roster=the_roster, now=NOW, gateway=gateway, threshold=0.99)
    assert capture.prompts, "the model was not called"
    joined = "\n".join(capture.prompts)
    assert "<PATIENT_1>" in joined and "<PHONE_1>" in joined and "<MRN_1>" in joined
    assert frame["parser"] == "llm" and frame["intent"] == "book"
    assert frame["patient"] == {"text": "jaime rivera", "id": "p-rivera"}
    assert frame["staff"]["id"] == "s-raman"
    assert frame["window"] == {
        "start": "2026-12-24T14:00:00-05:00",
        "end": "2026-12-24T14:00:00-05:00",
    }
    assert [r.outcome for r in records] == ["ok"] and len(records[0].payload_sha256) == 64


def test_summary_prose_sees_only_placeholders(the_roster: Roster, redactor: Redactor) -> None:
    model = ToolFake(messages=iter(["<PATIENT_1> missed two groups; utilization was 71%."]))
    capture, records = Capture(), []
    gateway = make_gateway(model, redactor, capture, records)
    aggregates = {
        "staff_utilization": 0.71,
        "missed": [{"patient": "Maria Lopez", "dob": "3/14/1962", "case": "CR-2024-1193"}],
    }
    text = summarize(aggregates, roster=the_roster, gateway=gateway)
    assert text == "Maria Lopez missed two groups; utilization was 71%."  # restored locally
    assert capture.prompts and records[0].outcome == "ok"


def test_raw_text_is_refused_by_type(redactor: Redactor) -> None:
    gateway = Gateway(ToolFake(messages=iter(["hi"])), redactor)
    with pytest.raises(TypeError):
        gateway.prose("summary", "Jamie Rivera missed group", purpose="summary")  # type: ignore[arg-type]


def test_a_payload_with_an_identifier_left_is_blocked(redactor: Redactor) -> None:
    capture, records = Capture(), []
    gateway = make_gateway(ToolFake(messages=iter(["x"])), redactor, capture, records)
    with pytest.raises(ValueError):
        redactor.mint_checked("call 555-201-7788")
    # simulate a recognizer miss: a RedactedText that still holds a phone number
    from assistant.phi.redactor import _MINT, RedactedText

    missed = RedactedText("call her at 555-201-7788", _mint=_MINT)
    assert gateway.prose("summary", missed, purpose="summary") is None
    assert capture.prompts == [] and [r.outcome for r in records] == ["blocked"]
    assert records[0].rules == ("PRIV-LLM-VENDOR",)  # the consent pack's rule decided


def test_the_vendor_rule_not_a_hand_written_check_decides(redactor: Redactor) -> None:
    """PRIV-LLM-VENDOR lets identifiers reach a vendor bound by a business associate agreement;
    a facility that turns the rule off in its packs changes what the gateway does."""
    from assistant.phi.redactor import _MINT, RedactedText

    records: list[AuditRecord] = []  # no tripwire callback: this vendor may see identifiers
    gateway = Gateway(ToolFake(messages=iter(["ok"])), redactor, name="fake",
                      audit=records.append, timeout_s=0.5, vendor_baa=True)  # fmt: skip
    missed = RedactedText("call her at 555-201-7788", _mint=_MINT)
    assert gateway.prose("summary", missed, purpose="summary") == "ok"
    assert [r.outcome for r in records] == ["ok"]


def test_timeout_still_yields_the_rules_frame(the_roster: Roster, redactor: Redactor) -> None:
    model = SlowFake(messages=iter([span_answer(intent="cancel")]))
    model.release, model.called = threading.Event(), threading.Event()
    capture, records = Capture(), []
    gateway = make_gateway(model, redactor, capture, records)
    # The rules' frame first: the intent model trains at first use, which is not the timeout.
    rules_frame = parse(FUZZY, roster=the_roster, now=NOW)
    try:
        frame = understand(FUZZY, roster=the_roster, now=NOW, gateway=gateway, threshold=0.99)
        # The model was asked and had not answered when the frame came back: the gateway gave
        # up after its timeout instead of waiting (true however busy the machine is).
        assert model.called.is_set() and not model.answered
    finally:
        model.release.set()  # frees the gateway's worker thread
    assert frame == rules_frame  # exactly the rules' frame
    assert [r.outcome for r in records] == ["timeout"]


def test_outage_still_yields_the_rules_frame(the_roster: Roster, redactor: Redactor) -> None:
    capture, records = Capture(), []
    gateway = make_gateway(DownFake(messages=iter([])), redactor, capture, records)
    frame = understand(FUZZY, roster=the_roster, now=NOW, gateway=gateway, threshold=0.99)
    assert frame == parse(FUZZY, roster=the_roster, now=NOW)
    assert [r.outcome for r in records] == ["error"]


def test_confident_rules_never_call_the_model(the_roster: Roster, redactor: Redactor) -> None:
    capture, records = Capture(), []
    gateway = make_gateway(ToolFake(messages=iter([])), redactor, capture, records)
    frame = understand("book Jamie friday at 2", roster=the_roster, now=NOW, gateway=gateway)
    assert frame["parser"] == "rules" and capture.prompts == [] and records == []


def test_model_spans_not_in_the_message_are_ignored(the_roster: Roster, redactor: Redactor) -> None:
    model = ToolFake(messages=iter([span_answer(intent="cancel", patient="Maria Lopez")]))
    gateway = make_gateway(model, redactor, Capture(), [])
    frame = understand("zzz qqq flux", roster=the_roster, now=NOW, gateway=gateway)
    assert frame["parser"] == "llm" and frame["patient"] is None


def test_rota_llm_is_off_by_default_and_explains_missing_packages(
    redactor: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROTA_LLM", raising=False)
    assert Gateway.from_env(redactor) is None
    monkeypatch.setenv("ROTA_LLM", "not-a-spec")
    with pytest.raises(LLMConfigError):
        Gateway.from_env(redactor)
    try:  # the clear message is only observable while the integration package is absent
        import langchain_openai  # noqa: F401
    except ImportError:
        monkeypatch.setenv("ROTA_LLM", "openai:gpt-4o-mini")
        with pytest.raises(LLMConfigError, match="pip install langchain-openai"):
            Gateway.from_env(redactor)


def test_prompt_files_themselves_carry_no_identifier(redactor: Redactor) -> None:
    for name in ("parse_fallback", "summary"):
        assert redactor.leaks(load_prompt(name)) == []


def test_audit_records_go_to_the_hash_chained_log(db: Any, redactor: Redactor) -> None:
    from clinic.audit import verify_chain
    from clinic.models import AuditEvent

    model = ToolFake(messages=iter(["fine"]))
    gateway = Gateway(model, redactor, name="fake", audit=db_audit_sink(db))
    assert summarize({"utilization": 0.8}, roster=roster(), gateway=gateway) == "fine"
    with db.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "llm_call")).all()
        assert len(events) == 1
        assert events[0].after["outcome"] == "ok" and len(events[0].after["payload_sha256"]) == 64
        assert "utilization" not in str(events[0].after)
        report = verify_chain(session)
        assert report.ok and report.events >= 1, report


def test_an_attendance_command_never_calls_the_model(
    the_roster: Roster, redactor: Redactor
) -> None:
    # "Jamie attended" scores low (intent unknown) but is understood: no model is asked.
    capture, records = Capture(), []
    gateway = make_gateway(ToolFake(messages=iter([])), redactor, capture, records)
    frame = understand("Jamie attended", roster=the_roster, now=NOW, gateway=gateway)
    assert frame["action"] == "attended" and frame["confidence"] < 0.6
    assert capture.prompts == [] and records == []
