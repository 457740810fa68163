"""The one gateway to any language model (LangChain `init_chat_model`).

* Off unless `ROTA_LLM` names a model ("openai:gpt-4o-mini", "ollama:llama3.1"); nothing in
  Rota needs it.
* Its input is `RedactedText`, which only the PHI redactor can make: raw text is refused by type.
  The whole payload (prompt file + redacted text) is re-scanned before it leaves, and the
  payload is a disclosure the PRIV rules judge (`assistant.disclosure`): without a business
  associate agreement, any identifier left blocks the call (PRIV-LLM-VENDOR, PRIV-08/09).
* Every call is audited with a SHA-256 of the payload, never the payload (PRIV-07).
* A timeout, an outage or an unparsable answer returns None: callers keep their deterministic
  result and the user never sees an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from assistant.disclosure import Disclose, judge
from assistant.phi import RedactedText, Redactor
from clinic.errors import InvalidInput

log = logging.getLogger("rota.llm")
PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
T = TypeVar("T", bound=BaseModel)
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rota-llm")
# Provider → the integration package init_chat_model needs for it.
PROVIDER_PACKAGES = {
    "openai": "langchain-openai",
    "azure_openai": "langchain-openai",
    "ollama": "langchain-ollama",
    "anthropic": "langchain-anthropic",
    "groq": "langchain-groq",
    "mistralai": "langchain-mistralai",
}


class LLMConfigError(InvalidInput):
    """ROTA_LLM is set but cannot be used (unknown provider, integration package missing)."""


@dataclass(frozen=True)
class AuditRecord:
    actor: str
    purpose: str
    model: str
    payload_sha256: str
    outcome: str  # ok | timeout | error | blocked | unparsable
    rules: tuple[str, ...] = ()
    """The rules that blocked the call (when blocked)."""


AuditSink = Callable[[AuditRecord], None]


def db_audit_sink(db: Any) -> AuditSink:
    """Write each record to the clinic's hash-chained audit log (payload hash only)."""
    from clinic.audit import append_event

    def sink(record: AuditRecord) -> None:
        with db.session() as session:
            append_event(
                session,
                actor=record.actor,
                action="llm_call",
                entity_type="llm",
                entity_id=None,
                after={
                    "model": record.model,
                    "payload_sha256": record.payload_sha256,
                    "outcome": record.outcome,
                    **({"rules": list(record.rules)} if record.rules else {}),
                },
                reason=record.purpose,
            )

    return sink


@cache
def load_prompt(name: str) -> str:
    """The text of prompts/<name>.md (every prompt is a file, versioned with the code)."""
    path = PROMPTS / f"{name}.md"
    if not path.exists():
        raise FileNotFoundError(f"no prompt file {path}")
    return path.read_text().strip()


def chat_model_from_spec(spec: str, timeout_s: float) -> BaseChatModel:
    """'provider:model' → a LangChain chat model (no network at construction)."""
    provider, sep, model = spec.partition(":")
    if not sep or not provider or not model:
        raise LLMConfigError(
            f"ROTA_LLM={spec!r}: expected 'provider:model', e.g. openai:gpt-4o-mini"
        )
    from langchain.chat_models import init_chat_model

    kwargs: dict[str, Any] = {}
    if provider in ("openai", "azure_openai", "anthropic", "groq", "mistralai"):
        kwargs = {"timeout": timeout_s, "max_retries": 1}
    try:
        return init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError as exc:
        package = PROVIDER_PACKAGES.get(provider, f"the LangChain integration for {provider!r}")
        raise LLMConfigError(
            f"ROTA_LLM={spec!r} needs {package}: pip install {package} (or unset ROTA_LLM)"
        ) from exc
    except ValueError as exc:
        raise LLMConfigError(f"ROTA_LLM={spec!r}: {exc}") from exc


class Gateway:
    """Calls a chat model with a prompt file and redacted content; see the module docstring."""

    def __init__(
        self,
        model: BaseChatModel,
        redactor: Redactor,
        *,
        name: str = "",
        audit: AuditSink | None = None,
        timeout_s: float = 10.0,
        actor: str = "assistant",
        method: str = "function_calling",
        callbacks: Sequence[BaseCallbackHandler] = (),
        vendor_baa: bool = False,
    ) -> None:
        self.model = model
        self.redactor = redactor
        self.name = name or type(model).__name__
        self.audit = audit
        self.timeout_s = timeout_s
        self.actor = actor
        self.method = method
        self.callbacks = list(callbacks)
        self.vendor_baa = vendor_baa
        """The vendor signed a business associate agreement (PRIV-LLM-VENDOR)."""

    @classmethod
    def from_env(
        cls, redactor: Redactor, *, audit: AuditSink | None = None, **kwargs: Any
    ) -> Gateway | None:
        """None when ROTA_LLM is unset (the default); raises LLMConfigError when unusable."""
        spec = os.environ.get("ROTA_LLM", "").strip()
        if not spec:
            return None
        timeout_s = float(os.environ.get("ROTA_LLM_TIMEOUT", "10"))
        model = chat_model_from_spec(spec, timeout_s)
        method = os.environ.get("ROTA_LLM_METHOD", "function_calling")
        return cls(model, redactor, name=spec, audit=audit, timeout_s=timeout_s, method=method,
                   **kwargs)  # fmt: skip

    # -- the two uses --------------------------------------------------------------------------

    def structured(
        self, prompt: str, content: RedactedText, schema: type[T], *, purpose: str
    ) -> T | None:
        """The model's answer as `schema` (via tool calling), or None."""
        runnable = self.model.with_structured_output(schema, method=self.method, include_raw=True)
        answer = self._call(prompt, content, purpose, runnable)
        if answer is None:
            return None
        parsed = answer.get("parsed") if isinstance(answer, dict) else answer
        if not isinstance(parsed, schema):
            self._record(purpose, "", "unparsable")
            return None
        return parsed

    def prose(self, prompt: str, content: RedactedText, *, purpose: str) -> str | None:
        answer = self._call(prompt, content, purpose, self.model)
        text = getattr(answer, "content", None)
        return text if isinstance(text, str) and text.strip() else None

    # -- the one place a model is called --------------------------------------------------------

    def _call(self, prompt: str, content: RedactedText, purpose: str, runnable: Any) -> Any:
        if not isinstance(content, RedactedText):
            raise TypeError("the LLM gateway only accepts RedactedText from assistant.phi")
        system = load_prompt(prompt)
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(str(content))]
        digest = _payload_hash(self.name, messages)
        leaks = self.redactor.leaks(system) + self.redactor.leaks(str(content))
        verdict = judge(
            Disclose(
                actor=self.actor,
                channel="llm",
                recipient="llm_vendor",
                identifies_patient=bool(leaks),
                deidentified=not leaks,
                vendor_baa=self.vendor_baa,
                purpose=purpose,
            ),
            None,
        )
        if not verdict.allowed:
            rules = tuple(f.id for f in verdict.blocking)
            log.warning(
                "LLM call blocked by %s (identifiers: %s)",
                ", ".join(rules),
                {e.type for e in leaks},
            )
            self._record(purpose, digest, "blocked", rules)
            return None
        config = {"callbacks": self.callbacks} if self.callbacks else {}
        future = _POOL.submit(runnable.invoke, messages, config)
        try:
            answer = future.result(timeout=self.timeout_s)
        except FutureTimeout:
            future.cancel()
            self._record(purpose, digest, "timeout")
            return None
        except Exception as exc:  # an outage, a provider error, a tripwire: fall back
            log.warning("LLM call failed (%s): %s", type(exc).__name__, exc)
            self._record(purpose, digest, "error")
            return None
        self._record(purpose, digest, "ok")
        return answer

    def _record(self, purpose: str, digest: str, outcome: str, rules: tuple[str, ...] = ()) -> None:
        if self.audit is None:
            return
        try:
            self.audit(AuditRecord(self.actor, purpose, self.name, digest, outcome, rules))
        except Exception:  # auditing must not break the answer; it is logged loudly
            log.exception("could not write the LLM audit record")


def _payload_hash(model: str, messages: list[BaseMessage]) -> str:
    payload = json.dumps(
        {"model": model, "messages": [[m.type, m.content] for m in messages]},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()
