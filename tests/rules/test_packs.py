"""Packs as data: validation with file and line, facility overrides, reload keeps the last good."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from clinic.catalogue import BUILTIN_SESSION_TYPES
from rules.derive import category_of, expand_credentials
from rules.facts import session_type_facts
from rules.loader import PACKS_DIR, PackError, catalogue_ids, load_packs, validate
from rules.service import RulesService
from tests.rules.builders import MON, STAFF, appt, patient, situation


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_packs_are_valid_and_sourced() -> None:
    assert validate() == []
    packs = load_packs()
    ids = catalogue_ids()
    assert len(ids) > 80
    areas = {r.pack for r in packs.rules}
    assert areas >= {
        "permissions", "authorization", "level_of_care", "court", "credentials", "spacing",
        "groups", "consent",
    }  # fmt: skip
    for rule in packs.rules:
        assert rule.sources and set(rule.sources) <= ids, rule.id
        assert rule.link.startswith("http"), rule.id
        assert rule.severity in ("deny", "require_override", "warn", "oblige")


def test_broken_yaml_reports_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, "bad.yaml", "pack: mine\nrules:\n  - id: X-1\n    title: [unclosed\n")
    problems = validate(tmp_path)
    assert len(problems) == 1
    assert problems[0].file.endswith("bad.yaml")
    assert problems[0].line in (4, 5)
    assert "not valid YAML" in problems[0].message


def test_rule_mistakes_point_at_their_lines(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "facility.yaml",
        """pack: facility
rules:
  - id: FAC-LATE
    title: Late evening sessions
    severity: forbid
    subject: patient
    actions: [book, teleport]
    when:
      $and:
        - $gt: {units_remaning: {$param: limit}}
        - $lt: {minutes: {$param: missing}}
    params: {limit: 3}
    message: "{patient} at {hour}"
    sources: [FAC-01]
    link: catalogue
""",
    )
    problems = {p.message.split(": ", 1)[1]: p for p in validate(tmp_path)}
    text = "\n".join(f"{p.line} {m}" for m, p in problems.items())
    assert any(m.startswith("severity 'forbid'") for m in problems), text
    assert problems[next(m for m in problems if m.startswith("severity"))].line == 5
    assert problems[next(m for m in problems if "teleport" in m)].line == 7
    typo = next(m for m in problems if "units_remaning" in m)
    assert "did you mean units_remaining_after" in typo, typo
    assert problems[typo].line == 8
    assert any("'missing' is not defined" in m for m in problems), text
    assert problems[next(m for m in problems if "{hour}" in m)].line == 13
    assert problems[next(m for m in problems if "FAC-01" in m)].line == 14
    assert problems[next(m for m in problems if "`link`" in m)].line == 15
    assert all(p.line > 0 and p.file.endswith("facility.yaml") for p in problems.values())


def test_unsafe_operators_are_refused(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "x.yaml",
        """pack: x
rules:
  - id: X-CMP
    title: compares two facts
    severity: warn
    subject: patient
    when: {$lt: {units_used: {$m: units_authorized}}}
    message: no
    sources: [AUTH-03]
    link: https://example.org
""",
    )
    messages = [p.message for p in validate(tmp_path)]
    assert any("$m" in m for m in messages), messages


def test_overrides_change_parameters_and_switch_rules_off(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "ours.yaml",
        """overrides:
  AUTH-LOW-UNITS: {params: {warn_units: 4}}
  GRP-DURATION: {enabled: false}
tables:
  loc_bands:
    "1.0": {adult: {below_hours: 12}}
data:
  keep_apart: [[p1, p2]]
  roles: {s1: director}
  interns: {c009: 2400}
  program_capability: AOS
""",
    )
    packs = load_packs(tmp_path)
    assert packs.rule("AUTH-LOW-UNITS").params["warn_units"] == 4
    assert packs.rule("AUTH-LOW-UNITS").file.endswith("ours.yaml")
    assert not packs.rule("GRP-DURATION").enabled
    assert "GRP-DURATION" not in {r.id for r in packs.active}
    assert packs.tables["loc_bands"]["1.0"]["adult"] == {"below_hours": 12}
    assert packs.tables["loc_bands"]["2.1"]["adult"]["max_hours"] == 19  # others kept
    assert frozenset({"p1", "p2"}) in packs.data.keep_apart
    assert packs.data.roles["s1"] == {"director"}
    assert packs.data.interns["c009"] == 2400
    assert packs.data.program_capability == "AOS"


def test_override_of_unknown_rule_or_parameter(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "ours.yaml",
        "overrides:\n  NOPE-1: {enabled: false}\n  AUTH-LOW-UNITS: {params: {warn_unit: 4}}\n",
    )
    problems = validate(tmp_path)
    assert [p.line for p in problems] == [2, 3]
    assert "unknown rule NOPE-1" in problems[0].message
    assert "no parameter 'warn_unit'" in problems[1].message


def test_facility_rule_is_evaluated(tmp_path: Path) -> None:
    """A facility adds its own rule without code: no individual sessions on Saturdays."""
    _write(
        tmp_path,
        "saturday.yaml",
        """pack: harbor
rules:
  - id: HARBOR-SAT
    title: No individual sessions on Saturday
    severity: deny
    subject: patient
    actions: [book, move]
    when:
      $and:
        - weekday: sat
        - category: individual_psychotherapy
    message: "Harbor runs groups only on Saturdays; book {patient} on a weekday."
    sources: [OPS-07]
    link: https://research.hanze.nl/nl/publications/nonattendance-in-addiction-mental-health-services-patient-and-app
    basis: P
""",
    )
    service = RulesService(tmp_path)
    from datetime import timedelta

    saturday = MON + timedelta(days=5)
    decision = service.evaluate(
        "book", STAFF["ther"], situation(appt("individual", saturday, "10:00"), (patient(),))
    )
    assert not decision.allowed and decision.fired_ids == ["HARBOR-SAT"]
    monday = service.evaluate("book", STAFF["ther"], situation(appt("individual", MON, "10:00")))
    assert monday.allowed


def test_reload_keeps_last_good_packs(tmp_path: Path) -> None:
    _write(tmp_path, "ours.yaml", "overrides:\n  OPS-ONE-INDIVIDUAL: {params: {max_per_day: 2}}\n")
    service = RulesService(tmp_path)
    assert service.packs.rule("OPS-ONE-INDIVIDUAL").params["max_per_day"] == 2
    _write(tmp_path, "ours.yaml", "overrides:\n  OPS-ONE-INDIVIDUAL: {params: [broken\n")
    problems = service.reload()
    assert problems and problems[0].file.endswith("ours.yaml")
    assert service.packs.rule("OPS-ONE-INDIVIDUAL").params["max_per_day"] == 2
    existing = (appt("individual", MON, "09:00"),)
    still = service.evaluate(
        "book", STAFF["ther"], situation(appt("ind_60", MON, "15:00"), existing=existing)
    )
    assert still.allowed  # the last good packs (2 a day) still decide
    _write(tmp_path, "ours.yaml", "overrides:\n  OPS-ONE-INDIVIDUAL: {params: {max_per_day: 1}}\n")
    assert service.reload() == []
    now = service.evaluate(
        "book", STAFF["ther"], situation(appt("ind_60", MON, "15:00"), existing=existing)
    )
    assert not now.allowed and now.fired_ids == ["OPS-ONE-INDIVIDUAL"]


def test_broken_builtin_copy_refuses_to_start(tmp_path: Path) -> None:
    copy = tmp_path / "packs"
    shutil.copytree(PACKS_DIR, copy)
    text = (copy / "spacing.yaml").read_text().replace("severity: deny", "severity: nope", 1)
    (copy / "spacing.yaml").write_text(text)
    with pytest.raises(PackError) as caught:
        RulesService(builtin_dir=copy, use_env=False)
    assert "spacing.yaml:" in str(caught.value) and "nope" in str(caught.value)


def test_the_credentials_pack_and_the_catalogue_name_the_same_credentials(
    service: RulesService,
) -> None:
    """Credentials are defined once (clinic.catalogue.CREDENTIAL_GROUPS): the built-in session
    catalogue and the credentials pack's matrix, which names the groups, agree on every type."""
    tables = service.packs.tables
    types = {t["id"]: session_type_facts(SimpleNamespace(**t)) for t in BUILTIN_SESSION_TYPES}
    for stype in types.values():
        row = tables["credential_matrix"][category_of(stype.id, types, tables)]
        assert expand_credentials(row["credentials"], tables) == stype.credentials_any, stype.id
