"""`constraints_for` says what the two booking rules about one day ask of a plan, in agreement with
`evaluate`: no diagnostic evaluation and E/M visit by one prescriber on a day
(OPS-EVAL-EM-SAME-DAY), and an IOP day of at least three hours (COD-IOP-DAY). A facility that
disables either rule stops constraining plans with it."""

from __future__ import annotations

from pathlib import Path

from rules.constraints import build_eligibility
from rules.eligibility import Eligibility, MinimumLength
from rules.loader import load_packs
from rules.model import Situation
from rules.service import RulesService
from tests.rules.builders import MON, STAFF, SUN, TYPES, WED, appt, patient, situation


def _answer(service: RulesService) -> Eligibility:
    return service.constraints_for([patient()], STAFF.values(), (MON, SUN), session_types=TYPES)


def test_constraints_for_names_the_evaluation_and_em_pair(service: RulesService) -> None:
    rules = _answer(service).patients["p1"]
    assert {"psychiatric_evaluation", "diag_eval", "eval_90792"} <= rules.evaluation_session_types
    assert {"medication_management", "medical_evaluation", "em_visit"} <= rules.em_session_types
    assert not rules.evaluation_session_types & rules.em_session_types


def test_constraints_for_gives_the_iop_day_minimum_the_booking_checks(
    service: RulesService,
) -> None:
    least = _answer(service).min_minutes
    assert least == {"iop_day": MinimumLength("iop_day", 180, "COD-IOP-DAY", "IOP day (H0015)")}

    def iop_day(minutes: int) -> Situation:
        return situation(appt("iop_day", WED, "09:00", minutes=minutes), (patient(),))

    shorter = service.evaluate("book", STAFF["ther"], iop_day(least["iop_day"].minutes - 15))
    assert not shorter.allowed and "COD-IOP-DAY" in shorter.fired_ids
    enough = service.evaluate("book", STAFF["ther"], iop_day(least["iop_day"].minutes))
    assert "COD-IOP-DAY" not in enough.fired_ids


def test_a_disabled_rule_no_longer_constrains_plans(tmp_path: Path) -> None:
    (tmp_path / "facility.yaml").write_text(
        "pack: facility\ntitle: Our payer allows both\noverrides:\n"
        "  OPS-EVAL-EM-SAME-DAY: {enabled: false}\n  COD-IOP-DAY: {enabled: false}\n"
    )
    packs = load_packs(tmp_path)
    answer = build_eligibility(packs, [patient()], STAFF.values(), (MON, SUN), session_types=TYPES)
    assert answer.min_minutes == {}
    assert answer.patients["p1"].em_session_types == frozenset()
