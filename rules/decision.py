"""The answer to "may this happen?": which rules fired, why, and what must follow.

Severity semantics:
- deny: not allowed, whatever anyone says;
- require_override: not allowed unless an override reason is given by someone who may give it
  (the rule's `override_by`, else the permissions pack's `override_roles`; `liaison` means the
  patient's court liaison);
- warn: allowed, with the message;
- oblige: allowed; adds its obligations (every fired rule adds its `oblige` lines).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rules.loader import Rule

Fact = dict[str, Any]


@dataclass(frozen=True)
class FiredRule:
    id: str
    title: str
    severity: str
    message: str
    params: Mapping[str, Any]
    sources: tuple[str, ...]
    link: str
    subject: str
    overridden: bool = False

    @property
    def blocks(self) -> bool:
        return self.severity == "deny" or (
            self.severity == "require_override" and not self.overridden
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "message": self.message,
            "params": dict(self.params),
            "sources": list(self.sources),
            "link": self.link,
            "overridden": self.overridden,
        }


@dataclass(frozen=True)
class Decision:
    allowed: bool
    fired: tuple[FiredRule, ...] = ()
    obligations: tuple[str, ...] = ()
    message: str = "Allowed."
    override_reason: str | None = None
    action: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fired_ids(self) -> list[str]:
        return [f.id for f in self.fired]

    @property
    def blocking(self) -> list[FiredRule]:
        return [f for f in self.fired if f.blocks]

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "action": self.action,
            "message": self.message,
            "fired": [f.to_dict() for f in self.fired],
            "obligations": list(self.obligations),
            "override_reason": self.override_reason,
        }


class _Formatter(string.Formatter):
    """Message templates: missing values show as '?', numbers without trailing zeros."""

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        return kwargs.get(str(key), "?")

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float) and not format_spec:
            return f"{value:g}"
        if isinstance(value, list | tuple | set | frozenset) and not format_spec:
            return ", ".join(str(v) for v in value)
        return super().format_field(value, format_spec)


_FORMAT = _Formatter()


def render(template: str, fact: Fact, params: Mapping[str, Any]) -> str:
    return _FORMAT.format(template, **{**fact, **params})


def assemble(
    action: str,
    matches: list[tuple[Rule, Fact]],
    actor_roles: frozenset[str],
    override_reason: str | None,
    override_roles: frozenset[str],
) -> Decision:
    """Turn engine matches into a decision (rules in pack order, duplicates merged)."""
    reason = (override_reason or "").strip() or None
    fired: dict[tuple[str, str], FiredRule] = {}
    obligations: dict[str, None] = {}
    for rule, fact in matches:
        text = render(rule.message, fact, rule.params)
        key = (rule.id, text)
        if key in fired:
            continue
        overridden = False
        if rule.severity == "require_override" and reason:
            who = frozenset(rule.override_by) or override_roles
            overridden = bool(actor_roles & who) or (
                "liaison" in who and bool(fact.get("actor_is_liaison"))
            )
        if overridden:
            text = f"{text} (overridden: {reason})"
        fired[key] = FiredRule(
            id=rule.id,
            title=rule.title,
            severity=rule.severity,
            message=text,
            params=dict(rule.params),
            sources=rule.sources,
            link=rule.link,
            subject=rule.subject,
            overridden=overridden,
        )
        for line in rule.oblige:
            obligations.setdefault(render(line, fact, rule.params), None)
    order = {"deny": 0, "require_override": 1, "warn": 2, "oblige": 3}
    rules = tuple(sorted(fired.values(), key=lambda f: (order.get(f.severity, 9), f.id)))
    blocking = [f for f in rules if f.blocks]
    allowed = not blocking
    if not allowed:
        lines = [f"{f.id}: {f.message}" for f in blocking]
        if any(f.severity == "require_override" for f in blocking):
            lines.append(_override_hint(blocking, reason))
        message = "Not allowed. " + " ".join(lines)
    else:
        notes = [
            f"{f.id}: {f.message}" for f in rules if f.severity in ("warn", "require_override")
        ]
        message = "Allowed." + (" " + " ".join(notes) if notes else "")
    return Decision(
        allowed=allowed,
        fired=rules,
        obligations=tuple(obligations),
        message=message,
        override_reason=reason,
        action=action,
    )


def _override_hint(blocking: list[FiredRule], reason: str | None) -> str:
    if reason:
        return "The override reason was not accepted: your role may not override these rules."
    return "An override with a reason from an authorised person can allow it."
