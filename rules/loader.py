"""Read rule packs (YAML) into a `PackSet`, and say precisely what is wrong when a pack is broken.

Built-in packs live in `rules/packs/`. A facility's own directory (`ROTA_RULES_DIR`) is read after
them, in file-name order; each of its files may
- add rules (`rules:` under a `pack:` name),
- change built-in rules (`overrides: {RULE-ID: {params: {...}, severity: warn, enabled: false}}`),
- replace table entries (`tables: {loc_bands: {"2.1": ...}}`: each named entry is replaced),
- give facility data the facility file has no field for (`data:`, see `FacilityData`).

Every problem is reported as `file:line: what is wrong` (lines from YAML node marks).
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from clinic.catalogue import CREDENTIAL_GROUPS
from clinic.errors import InvalidInput
from rules import vocabulary as V
from rules.compiler import check_condition
from rules.model import Commitment

PACKS_DIR = Path(__file__).parent / "packs"
CATALOGUE = Path(__file__).parent / "catalogue.md"
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
TOP_KEYS = {"pack", "title", "description", "catalogue", "tables", "rules", "overrides", "data"}
RULE_KEYS = {
    "id", "title", "severity", "subject", "actions", "when", "params", "message", "oblige",
    "override_by", "sources", "link", "basis", "enabled", "note",
}  # fmt: skip
OVERRIDE_KEYS = {"params", "severity", "enabled", "message", "oblige", "override_by"}
BASES = ("S", "S-weak", "B", "P")
DATA_KEYS = {
    "keep_apart", "roles", "interns", "authorization_caps", "commitments", "program_capability",
    "emergency_hold",
}  # fmt: skip
EMERGENCY_HOLD_KEYS = {"service_level", "release_hours", "weeks", "minimum", "block_hours"}
"""OPS-EMERGENCY-HOLD settings a facility may set (assistant.emergency_capacity.HoldSettings)."""
Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class PackProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class PackError(InvalidInput):
    """One or more packs are broken; `problems` lists `file:line: what` for each."""


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    subject: str
    actions: tuple[str, ...]
    message: str
    sources: tuple[str, ...]
    link: str
    pack: str
    file: str
    line: int
    when: Any = None
    params: Mapping[str, Any] = field(default_factory=dict)
    oblige: tuple[str, ...] = ()
    override_by: tuple[str, ...] = ()
    basis: str = "S"
    enabled: bool = True
    note: str | None = None
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)
    """Line of each key in its file, to point at the exact place of a problem."""

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


@dataclass(frozen=True)
class FacilityData:
    """Facts the facility file has no field for, from `data:` in the rules directory."""

    keep_apart: frozenset[frozenset[str]] = frozenset()
    """Pairs of patients who must not meet (no-contact orders)."""
    roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Staff id -> extra roles, e.g. {"s1": {"director"}}."""
    interns: Mapping[str, int] = field(default_factory=dict)
    """Intern staff id -> supervised hours so far (STF-05 thresholds)."""
    authorization_caps: Mapping[str, int] = field(default_factory=dict)
    """Authorization id -> max units per ISO week (AUTH-01 per-period cap)."""
    commitments: Mapping[str, tuple[Commitment, ...]] = field(default_factory=dict)
    """Patient id -> times they are elsewhere (court hearings, probation meetings)."""
    program_capability: str = "DDC"
    """STF-08 co-occurring capability of the program: AOS, DDC or DDE."""
    emergency_hold: Mapping[str, float] = field(default_factory=dict)
    """OPS-EMERGENCY-HOLD settings (service_level, release_hours, weeks, minimum, block_hours);
    the ones left out keep their defaults."""


@dataclass(frozen=True)
class PackSet:
    rules: tuple[Rule, ...]
    tables: Mapping[str, Any]
    data: FacilityData
    files: tuple[str, ...]

    @property
    def active(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


# ------------------------------------------------------------------ YAML with line numbers


def _read_yaml(path: Path) -> tuple[Any, dict[Path_, int], list[PackProblem]]:
    """The document and a map from each key path to its line (1-based)."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, {}, [PackProblem(name, 0, f"cannot read: {exc.strerror}")]
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        return None, {}, [PackProblem(name, line, f"not valid YAML: {exc.problem or exc.context}")]
    lines: dict[Path_, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines, []


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                continue
            k = key.value
            lines[(*path, k)] = key.start_mark.line + 1
            _walk(value, (*path, k), lines)
            lines[(*path, k)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)


class _Report:
    def __init__(self, file: str, lines: dict[Path_, int]) -> None:
        self.file, self.lines, self.problems = file, lines, []  # type: list[PackProblem]

    def line(self, path: Path_) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def __call__(self, path: Path_, message: str) -> None:
        self.problems.append(PackProblem(self.file, self.line(path), message))


# ------------------------------------------------------------------ catalogue


@lru_cache(maxsize=1)
def catalogue_ids() -> frozenset[str]:
    """Source ids of the sourced rule catalogue (e.g. AUTH-03), which every rule must cite."""
    text = CATALOGUE.read_text(encoding="utf-8") if CATALOGUE.exists() else ""
    return frozenset(re.findall(r"^\| ([A-Z]+-\d+) \|", text, flags=re.MULTILINE))


# ------------------------------------------------------------------ loading


def rules_dir_from_env() -> Path | None:
    value = os.environ.get("ROTA_RULES_DIR", "").strip()
    return Path(value) if value else None


def yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_packs(facility_dir: Path | None = None, builtin_dir: Path = PACKS_DIR) -> PackSet:
    """Built-in packs plus the facility directory; raises `PackError` listing every problem."""
    packs, problems = collect(facility_dir, builtin_dir)
    if problems:
        raise PackError(
            f"{len(problems)} problem(s) in the rule packs:\n" + "\n".join(map(str, problems)),
            [str(p) for p in problems],
        )
    assert packs is not None
    return packs


def validate(facility_dir: Path | None = None, builtin_dir: Path = PACKS_DIR) -> list[PackProblem]:
    return collect(facility_dir, builtin_dir)[1]


def collect(
    facility_dir: Path | None, builtin_dir: Path = PACKS_DIR
) -> tuple[PackSet | None, list[PackProblem]]:
    problems: list[PackProblem] = []
    files: list[Path] = []
    for directory, role in ((builtin_dir, "builtin"), (facility_dir, "facility")):
        if directory is None:
            continue
        if not directory.is_dir():
            problems.append(PackProblem(str(directory), 0, f"{role} rules directory not found"))
            continue
        found = yaml_files(directory)
        if not found and role == "builtin":
            problems.append(PackProblem(str(directory), 0, "no .yaml packs in this directory"))
        files.extend(found)
    rules: dict[str, Rule] = {}
    # Credential groups are defined once, with the session catalogue; packs may add groups.
    tables: dict[str, Any] = {
        "credential_groups": {k: list(v) for k, v in CREDENTIAL_GROUPS.items()}
    }
    data = FacilityData()
    pending: list[tuple[_Report, Path_, str, dict[str, Any]]] = []  # overrides, applied last
    for path in files:
        doc, lines, errors = _read_yaml(path)
        problems.extend(errors)
        if errors:
            continue
        report = _Report(str(path), lines)
        _read_file(doc, report, rules, tables, pending)
        if isinstance(doc, dict) and "data" in doc:
            data = _read_data(doc["data"], report, data)
        problems.extend(report.problems)
    for report, where, rule_id, change in pending:
        _apply_override(report, where, rule_id, change, rules)
        problems.extend(report.problems)
        report.problems = []
    for rule in rules.values():
        problems.extend(_check_rule_semantics(rule, tables))
    if problems:
        return None, _dedupe(problems)
    return PackSet(tuple(rules.values()), tables, data, tuple(map(str, files))), []


def _dedupe(problems: list[PackProblem]) -> list[PackProblem]:
    seen: dict[str, PackProblem] = {}
    for p in problems:
        seen.setdefault(str(p), p)
    return list(seen.values())


def _read_file(
    doc: Any,
    report: _Report,
    rules: dict[str, Rule],
    tables: dict[str, Any],
    pending: list[tuple[_Report, Path_, str, dict[str, Any]]],
) -> None:
    if doc is None:
        report((), "the file is empty")
        return
    if not isinstance(doc, dict):
        report((), "a pack must be a mapping with keys like pack, rules, tables, overrides")
        return
    for key in doc:
        if key not in TOP_KEYS:
            report((key,), f"unknown key {key!r}; expected one of {', '.join(sorted(TOP_KEYS))}")
    pack = doc.get("pack")
    if "rules" in doc and not isinstance(pack, str):
        report(("pack",), "a file with rules needs `pack: <name>`")
    for name, value in (doc.get("tables") or {}).items():
        if name not in V.TABLES:
            report(
                ("tables", name), f"unknown table {name!r}; known: {', '.join(sorted(V.TABLES))}"
            )
        elif isinstance(value, dict) and isinstance(tables.get(name), dict):
            tables[name] = {**tables[name], **value}
        else:
            tables[name] = value
    raw_rules = doc.get("rules") or []
    if not isinstance(raw_rules, list):
        report(("rules",), "`rules` must be a list")
        raw_rules = []
    for i, raw in enumerate(raw_rules):
        rule = _read_rule(raw, ("rules", i), report, str(pack))
        if rule is None:
            continue
        if rule.id in rules:
            other = rules[rule.id]
            report(
                ("rules", i, "id"),
                f"rule {rule.id} is already defined in {other.file}:{other.line}",
            )
            continue
        rules[rule.id] = rule
    overrides = doc.get("overrides") or {}
    if not isinstance(overrides, dict):
        report(("overrides",), "`overrides` must map rule ids to changes")
        return
    for rule_id, change in overrides.items():
        pending.append((report, ("overrides", rule_id), str(rule_id), change))


def _read_rule(raw: Any, where: Path_, report: _Report, pack: str) -> Rule | None:
    if not isinstance(raw, dict):
        report(where, "each rule must be a mapping")
        return None
    ok = True
    for key in raw:
        if key not in RULE_KEYS:
            report(
                (*where, key), f"unknown rule key {key!r}; expected {', '.join(sorted(RULE_KEYS))}"
            )
            ok = False
    for key in ("id", "title", "severity", "subject", "message", "sources", "link"):
        if key not in raw:
            report(where, f"rule {raw.get('id', '?')}: missing `{key}`")
            ok = False
    if not ok:
        return None
    rule_id = str(raw["id"])
    if not RULE_ID.match(rule_id):
        report((*where, "id"), f"rule id {rule_id!r} must look like AUTH-03 or LOC-IOP-MAX")
        ok = False
    actions = raw.get("actions") or list(V.BOOKING_ACTIONS)
    if isinstance(actions, str):
        actions = [actions]
    sources = raw["sources"]
    if isinstance(sources, str):
        sources = [sources]
    oblige = raw.get("oblige") or []
    if isinstance(oblige, str):
        oblige = [oblige]
    override_by = raw.get("override_by") or []
    if isinstance(override_by, str):
        override_by = [override_by]
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        report((*where, "params"), "`params` must be a mapping of name: value")
        params = {}
    if not ok:
        return None
    return Rule(
        id=rule_id,
        title=str(raw["title"]),
        severity=str(raw["severity"]),
        subject=str(raw["subject"]),
        actions=tuple(str(a) for a in actions),
        message=str(raw["message"]),
        sources=tuple(str(s) for s in sources),
        link=str(raw["link"]),
        pack=pack,
        file=report.file,
        line=report.line(where),
        when=raw.get("when"),
        params=dict(params),
        oblige=tuple(str(o) for o in oblige),
        override_by=tuple(str(o) for o in override_by),
        basis=str(raw.get("basis", "S")),
        enabled=bool(raw.get("enabled", True)),
        note=raw.get("note"),
        lines={k: report.line((*where, k)) for k in raw},
    )


def _apply_override(
    report: _Report, where: Path_, rule_id: str, change: Any, rules: dict[str, Rule]
) -> None:
    rule = rules.get(rule_id)
    if rule is None:
        report(where, f"override of unknown rule {rule_id}")
        return
    if not isinstance(change, dict):
        report(where, f"override of {rule_id} must be a mapping (params, severity, enabled, ...)")
        return
    for key in change:
        if key not in OVERRIDE_KEYS:
            report(
                (*where, key),
                f"{key!r} cannot be overridden; use one of {', '.join(sorted(OVERRIDE_KEYS))}",
            )
            return
    params = dict(rule.params)
    for name, value in (change.get("params") or {}).items():
        if name not in rule.params:
            report(
                (*where, "params", name),
                f"{rule_id} has no parameter {name!r}; it has {', '.join(rule.params) or 'none'}",
            )
            return
        params[name] = value
    lines = {k: report.line((*where, k)) for k in change}
    updates: dict[str, Any] = {
        "params": params,
        "file": report.file,
        "line": report.line(where),
        "lines": {**{k: report.line(where) for k in rule.lines}, **lines},
    }
    for key in ("severity", "message"):
        if key in change:
            updates[key] = str(change[key])
    if "enabled" in change:
        updates["enabled"] = bool(change["enabled"])
    for key in ("oblige", "override_by"):
        if key in change:
            value = change[key]
            updates[key] = tuple([value] if isinstance(value, str) else value or ())
    rules[rule_id] = replace(rule, **updates)


def _read_data(raw: Any, report: _Report, data: FacilityData) -> FacilityData:
    if not isinstance(raw, dict):
        report(("data",), "`data` must be a mapping")
        return data
    for key in raw:
        if key not in DATA_KEYS:
            report(
                ("data", key), f"unknown data key {key!r}; expected {', '.join(sorted(DATA_KEYS))}"
            )
    updates: dict[str, Any] = {}
    if "keep_apart" in raw:
        pairs = set(data.keep_apart)
        for i, item in enumerate(raw["keep_apart"] or []):
            ids = item.get("patients") if isinstance(item, dict) else item
            if not isinstance(ids, list) or len(ids) != 2 or ids[0] == ids[1]:
                report(
                    ("data", "keep_apart", i), "a keep-apart entry needs two different patient ids"
                )
                continue
            pairs.add(frozenset(str(x) for x in ids))
        updates["keep_apart"] = frozenset(pairs)
    if "roles" in raw:
        roles = dict(data.roles)
        for staff_id, value in (raw["roles"] or {}).items():
            names = [value] if isinstance(value, str) else list(value or [])
            roles[str(staff_id)] = frozenset(str(n) for n in names)
        updates["roles"] = roles
    for key, inner in (
        ("interns", "supervised_hours"),
        ("authorization_caps", "max_units_per_week"),
    ):
        if key in raw:
            table = dict(getattr(data, key))
            for item_id, value in (raw[key] or {}).items():
                number = value.get(inner) if isinstance(value, dict) else value
                if not isinstance(number, int) or number < 0:
                    report(
                        ("data", key, item_id),
                        f"{key}.{item_id} needs {inner}: a whole number >= 0",
                    )
                    continue
                table[str(item_id)] = number
            updates[key] = table
    if "commitments" in raw:
        commitments = dict(data.commitments)
        for pid, items in (raw["commitments"] or {}).items():
            parsed = []
            for i, item in enumerate(items or []):
                try:
                    start = _aware(item["start"])
                    end = _aware(item["end"])
                except (KeyError, TypeError, ValueError):
                    report(
                        ("data", "commitments", pid, i),
                        "a commitment needs start and end as ISO date-times with an offset",
                    )
                    continue
                parsed.append(Commitment(start, end, str(item.get("what", "a commitment"))))
            commitments[str(pid)] = tuple(parsed)
        updates["commitments"] = commitments
    if "program_capability" in raw:
        value = str(raw["program_capability"])
        if value not in ("AOS", "DDC", "DDE"):
            report(("data", "program_capability"), "program_capability must be AOS, DDC or DDE")
        else:
            updates["program_capability"] = value
    if "emergency_hold" in raw:
        hold = raw["emergency_hold"]
        if not isinstance(hold, dict):
            report(("data", "emergency_hold"), "emergency_hold must be a mapping")
        else:
            kept: dict[str, float] = {}
            for key, value in hold.items():
                if key not in EMERGENCY_HOLD_KEYS:
                    report(
                        ("data", "emergency_hold", key),
                        f"unknown setting {key!r}; expected "
                        + ", ".join(sorted(EMERGENCY_HOLD_KEYS)),
                    )
                elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    report(("data", "emergency_hold", key), f"{key} must be a number >= 0")
                else:
                    kept[str(key)] = value
            updates["emergency_hold"] = {**data.emergency_hold, **kept}
    return replace(data, **updates)


def _aware(value: Any) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        raise ValueError("naive")
    return when


# ------------------------------------------------------------------ rule semantics


def _check_rule_semantics(rule: Rule, tables: Mapping[str, Any]) -> Iterator[PackProblem]:
    def problem(message: str, key: str = "id") -> PackProblem:
        return PackProblem(rule.file, rule.line_of(key), f"rule {rule.id}: {message}")

    if rule.severity not in V.SEVERITIES:
        yield problem(
            f"severity {rule.severity!r} must be one of {', '.join(V.SEVERITIES)}", "severity"
        )
    if rule.subject not in V.FACTS:
        yield problem(f"subject {rule.subject!r} must be one of {', '.join(V.SUBJECTS)}", "subject")
        return
    for action in rule.actions:
        if action not in V.ACTIONS:
            yield problem(f"unknown action {action!r}; known: {', '.join(V.ACTIONS)}", "actions")
    known = set(V.FACTS[rule.subject])
    for path, message in check_condition(rule.when, known, rule.params):
        yield problem(f"condition {path}: {message}" if path else f"condition: {message}", "when")
    for label, text in [("message", rule.message)] + [("oblige", o) for o in rule.oblige]:
        for name in _placeholders(text):
            if name not in known and name not in rule.params:
                yield problem(
                    f"{label} uses {{{name}}}, which is neither a fact of {rule.subject} "
                    "nor a parameter",
                    label,
                )
    if rule.message.count("{") != rule.message.count("}"):
        yield problem("message has unbalanced braces", "message")
    unknown = [s for s in rule.sources if s not in catalogue_ids()]
    if not rule.sources:
        yield problem("`sources` must name at least one catalogue id (e.g. AUTH-03)", "sources")
    if unknown:
        yield problem(
            f"sources {', '.join(unknown)} are not ids of the rule catalogue ({CATALOGUE.name})",
            "sources",
        )
    if not rule.link.startswith(("http://", "https://")):
        yield problem("`link` must be the http(s) address of the catalogue source", "link")
    if rule.basis not in BASES:
        yield problem(f"basis {rule.basis!r} must be one of {', '.join(BASES)}", "basis")
    if rule.override_by and rule.severity != "require_override":
        yield problem("`override_by` only applies to severity require_override", "override_by")
    roles = set(tables.get("roles", {})) | {"liaison"}
    for who in rule.override_by:
        if who not in roles:
            yield problem(
                f"override_by {who!r} is not a role of the permissions pack (or 'liaison')",
                "override_by",
            )


def _placeholders(text: str) -> Iterator[str]:
    try:
        for _, name, _, _ in string.Formatter().parse(text):
            if name:
                yield re.split(r"[.\[]", name, maxsplit=1)[0]
    except ValueError:
        yield "(malformed braces)"
