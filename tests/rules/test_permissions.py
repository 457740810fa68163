"""Permission helpers later doors use: may(), scope(), visible_fields(), redact()."""

from __future__ import annotations

from rules.permissions import may, redact, scope, visible_fields
from rules.service import RulesService


def test_may_answers_with_the_rule_that_refused(service: RulesService) -> None:
    refused = may("front_desk", "view_clinical", service)
    assert not refused.allowed and refused.fired_ids == ["PERM-ROLE"]
    assert "front desk" in refused.message
    assert may("clinical_director", "edit_rules", service).allowed
    assert not may("auditor", "book", service).allowed
    assert may("auditor", "view_audit", service).allowed
    assert not may("nobody", "view_schedule", service).allowed


def test_scope_distinguishes_own_caseload(service: RulesService) -> None:
    assert scope("therapist", "book", service) == "own_caseload"
    assert scope("case_manager", "book", service) == "all"
    assert scope("front_desk", "view_clinical", service) is None


def test_front_desk_sees_times_and_rooms_but_no_clinical_detail(service: RulesService) -> None:
    fields = visible_fields("front_desk", "other", service)
    assert {"time", "room", "name"} <= fields
    assert not fields & {"session_type", "level_of_care", "needs", "notes", "court_order"}


def test_the_front_desk_sees_what_checking_someone_in_needs_and_no_more(
    service: RulesService,
) -> None:
    """Name and date of birth (two identifiers), a phone to call, when, where and with whom;
    not the MRN, sex or admission date (`demographics`), not the no-show prediction."""
    for relation in ("own", "other"):
        fields = visible_fields("front_desk", relation, service)
        assert fields == {"name", "dob", "phone", "time", "room", "clinician"}
    assert {"demographics", "no_show_risk"} <= visible_fields("case_manager", "other", service)
    assert "no_show_risk" not in visible_fields("intake_coordinator", "other", service)


def test_therapist_sees_own_caseload_fully_and_others_barely(service: RulesService) -> None:
    own = visible_fields("therapist", "own", service)
    other = visible_fields("therapist", "other", service)
    assert {"level_of_care", "needs", "notes"} <= own
    assert other == {"time", "room", "clinician"}
    assert visible_fields("auditor", "own", service) == {"audit"}


def test_redact_keeps_only_visible_fields() -> None:
    record = {"id": "a1", "name": "P", "time": "10:00", "room": "r1", "session_type": "group"}
    assert redact(record, "front_desk", "other") == {
        "id": "a1", "name": "P", "time": "10:00", "room": "r1",
    }  # fmt: skip
