"""Turn a rule's condition (durable_rules JSON-style, written in YAML) into a durable_rules
antecedent, substituting the rule's parameters.

The condition language is durable_rules' own (`docs/json/reference.md`), limited to the operators
that behave predictably on flat facts, plus two conveniences:

    {field: value}                      equality (several keys: all must hold)
    {$lt|$lte|$gt|$gte|$neq: {field: value}}
    {$ex|$nex: {field: 1}}              the fact has / lacks the field
    {$and: [...]}, {$or: [...]}, [...]  (a list is $and)
    {$in: {field: [a, b]}}              sugar for $or of equalities
    {$param: name}                      in place of a value: the rule's parameter `name`

Comparing two facts (`{$m: other}`) is refused on purpose: durable_rules matches `x < $m.y` when
`y` is missing, so such a rule would fire on facts it does not apply to.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

COMPARE = ("$lt", "$lte", "$gt", "$gte", "$neq")
EXISTS = ("$ex", "$nex")
LOGIC = ("$and", "$or")
NEVER = "\x00rota-no-value"
Scalar = str | int | float | bool


def check_condition(
    when: Any, known: set[str], params: Mapping[str, Any], path: str = ""
) -> Iterator[tuple[str, str]]:
    """Every problem in a condition, as (where in the condition, what is wrong)."""
    if when is None:
        return
    if isinstance(when, list):
        if not when:
            yield path, "an empty list matches nothing; remove it or add conditions"
        for i, item in enumerate(when):
            yield from check_condition(item, known, params, f"{path}[{i}]")
        return
    if not isinstance(when, dict) or not when:
        yield path, "expected a mapping such as {field: value} or {$gt: {field: 3}}"
        return
    for key, value in when.items():
        here = f"{path}.{key}" if path else str(key)
        if key in LOGIC:
            if not isinstance(value, list) or not value:
                yield here, f"{key} needs a non-empty list of conditions"
                continue
            for i, item in enumerate(value):
                yield from check_condition(item, known, params, f"{here}[{i}]")
        elif key in COMPARE or key in EXISTS or key == "$in":
            if not isinstance(value, dict) or len(value) != 1:
                yield here, f"{key} needs exactly one {{field: value}}"
                continue
            ((fact, operand),) = value.items()
            yield from _check_field(str(fact), known, here)
            if key == "$in":
                yield from _check_operand(operand, params, here, expect="list")
            elif key in COMPARE:
                kind = "scalar" if key == "$neq" else "number"
                yield from _check_operand(operand, params, here, expect=kind)
        elif key == "$m" or (isinstance(key, str) and key.startswith("$")):
            yield (
                here,
                (
                    f"operator {key} is not supported; use "
                    f"{', '.join((*LOGIC, *COMPARE, *EXISTS))} "
                    "or $in, and compare facts with parameters ($param)"
                ),
            )
        else:
            yield from _check_field(str(key), known, path)
            yield from _check_operand(value, params, here, expect="scalar")


def _check_field(fact: str, known: set[str], where: str) -> Iterator[tuple[str, str]]:
    if fact not in known:
        close = difflib.get_close_matches(fact, sorted(known), n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        yield where, f"unknown fact {fact!r}{hint}"


def _param(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"$param"}:
        return str(value["$param"])
    return None


def _check_operand(
    value: Any, params: Mapping[str, Any], where: str, *, expect: str
) -> Iterator[tuple[str, str]]:
    """A condition's operand (`expect`: "list", "number" or "scalar"); a `{$param: name}` is
    checked as the value the rule's params give it."""
    name = _param(value)
    if name is not None:
        if name not in params:
            yield where, f"parameter {name!r} is not defined in this rule's params"
            return
        value = params[name]
    if expect == "list":
        yield from _check_list(value, where)
    else:
        yield from _check_value(value, where, numeric=expect == "number")


def _check_value(value: Any, where: str, *, numeric: bool) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if "$m" in value:
            yield where, "comparing two facts ($m) is not supported; compare with a parameter"
        else:
            yield where, "a value must be a number, text, true/false or {$param: name}"
    elif value is None:
        yield where, "a value cannot be empty (null)"
    elif numeric and (isinstance(value, bool) or not isinstance(value, int | float)):
        yield where, f"this comparison needs a number, got {value!r}"
    elif not isinstance(value, Scalar):
        yield where, f"a value must be a number, text or true/false, got {value!r}"


def _check_list(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if not isinstance(value, list) or not all(isinstance(v, Scalar) for v in value):
        yield where, "$in needs a list of values (or {$param: name} naming a list)"


# ------------------------------------------------------------------ compile


def compile_condition(when: Any, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """durable_rules JSON for a checked condition (None when there is none)."""
    if when is None:
        return None
    if isinstance(when, list):
        return _all([compile_condition(item, params) for item in when])
    parts: list[dict[str, Any] | None] = []
    for key, value in when.items():
        if key in LOGIC:
            inner = [compile_condition(item, params) for item in value]
            parts.append({key: [i for i in inner if i is not None]})
        elif key in COMPARE:
            ((fact, operand),) = value.items()
            parts.append({key: {fact: _value(operand, params)}})
        elif key in EXISTS:
            ((fact, _),) = value.items()
            parts.append({key: {fact: 1}})
        elif key == "$in":
            ((fact, operand),) = value.items()
            options = list(_value(operand, params))
            if not options:
                parts.append({fact: NEVER})
            elif len(options) == 1:
                parts.append({fact: options[0]})
            else:
                parts.append({"$or": [{fact: option} for option in options]})
        else:
            parts.append({key: _value(value, params)})
    return _all(parts)


def _value(value: Any, params: Mapping[str, Any]) -> Any:
    name = _param(value)
    return params[name] if name is not None else value


def _all(parts: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else {"$and": kept}


def antecedent(
    subject: str, actions: tuple[str, ...], when: Any, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The whole `m` expression of a rule: subject, actions, then the pack's condition.

    The subject equality always comes first; it also keeps durable_rules away from a top-level
    `$nex`, which never returns."""
    parts: list[dict[str, Any] | None] = [{"subject": subject}]
    if actions:
        parts.append(compile_condition({"$in": {"action": list(actions)}}, {}))
    parts.append(compile_condition(when, params))
    result = _all(parts)
    assert result is not None
    return result
