"""One source of policy: every role a person holds, including those a facility grants in its
rules directory, counts at the gate, in redaction, for approvers and in the use cases."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant import callers, gate
from assistant.access import authorize, redact_for
from assistant.usecases import absences, appointments
from clinic.db import Database
from clinic.errors import NotFound, PermissionDenied
from clinic.queries import appointments_between
from tests.assistant.conftest import (
    DIRECTOR,
    END_OF_DAY,
    FRONT_DESK,
    NOW,
    OTHER_THERAPIST,
    THERAPIST,
)

Grant = Callable[[dict[str, str]], None]


def test_a_caller_carries_granted_roles(demo_db: Database, grant_roles: Grant) -> None:
    assert callers.for_staff(demo_db, FRONT_DESK).roles == {"front_desk"}
    grant_roles({FRONT_DESK: "clinical_director"})
    desk = callers.for_staff(demo_db, FRONT_DESK)
    assert desk.role == "front_desk" and desk.roles == {"front_desk", "clinical_director"}


def test_a_granted_role_passes_the_gate(demo_db: Database, grant_roles: Grant) -> None:
    report = {"intent": "utilization_summary"}
    assert gate.refusal(callers.for_staff(demo_db, FRONT_DESK), report) is not None
    grant_roles({FRONT_DESK: "director"})
    assert gate.refusal(callers.for_staff(demo_db, FRONT_DESK), report) is None


def test_a_granted_role_widens_what_redaction_shows(demo_db: Database, grant_roles: Grant) -> None:
    tz = demo_db.facility_tz()
    with demo_db.read() as session:
        [first, *_] = appointments_between(session, NOW, END_OF_DAY, staff=THERAPIST)
    shown = redact_for(demo_db, callers.for_staff(demo_db, FRONT_DESK), first, tz)
    assert "session_type" not in shown
    grant_roles({FRONT_DESK: "clinical_director"})
    shown = redact_for(demo_db, callers.for_staff(demo_db, FRONT_DESK), first, tz)
    assert shown["session_type"] == first.session_type


def test_approvers_come_from_the_pack_and_a_granted_role_approves(
    demo_db: Database, grant_roles: Grant
) -> None:
    assert [c.staff_id for c in callers.approvers(demo_db)] == [DIRECTOR]
    grant_roles({FRONT_DESK: "director"})
    assert [c.staff_id for c in callers.approvers(demo_db)] == [DIRECTOR, FRONT_DESK]
    therapist = callers.for_staff(demo_db, THERAPIST)
    proposal = absences.report_absence(
        demo_db, therapist, absences.ReportAbsence(THERAPIST, NOW, END_OF_DAY, NOW)
    )
    with pytest.raises(PermissionDenied):
        absences.apply_proposal(demo_db, therapist, absences.ApplyProposal(proposal["id"]))
    desk = callers.for_staff(demo_db, FRONT_DESK)
    outcome = absences.apply_proposal(demo_db, desk, absences.ApplyProposal(proposal["id"]))
    assert outcome["id"] == proposal["id"] and outcome["moved"] == len(proposal["moves"])


def test_authorize_honours_staff_id(demo_db: Database) -> None:
    therapist = callers.for_staff(demo_db, THERAPIST)
    # Anyone may report their own absence; a therapist may not report a colleague's.
    authorize(demo_db, therapist, "report_absence", staff_id=THERAPIST)
    with pytest.raises(PermissionDenied):
        authorize(demo_db, therapist, "report_absence", staff_id=OTHER_THERAPIST)
    with pytest.raises(NotFound):
        authorize(demo_db, therapist, "view_schedule", staff_id="nobody")
    director = callers.for_staff(demo_db, DIRECTOR)
    authorize(demo_db, director, "report_absence", staff_id=OTHER_THERAPIST)


def test_a_therapist_cannot_call_a_colleague_in_sick(demo_db: Database) -> None:
    therapist = callers.for_staff(demo_db, THERAPIST)
    with pytest.raises(PermissionDenied):
        absences.report_absence(
            demo_db, therapist, absences.ReportAbsence(OTHER_THERAPIST, NOW, END_OF_DAY, NOW)
        )


def test_the_command_line_operator_holds_the_packs_roles(demo_db: Database) -> None:
    operator = callers.for_actor(demo_db, "operator")
    assert "director" in operator.roles
    stranger = callers.for_actor(demo_db, "someone")
    assert stranger.roles == {callers.UNKNOWN_ROLE}
    with demo_db.read() as session:
        [first, *_] = appointments_between(session, NOW, END_OF_DAY, staff=THERAPIST)
    with pytest.raises(PermissionDenied):
        appointments.cancel(demo_db, stranger, appointments.Cancel(first.id, "ill"))
    cancelled = appointments.cancel(demo_db, operator, appointments.Cancel(first.id, "ill"))
    assert cancelled.status == "cancelled"
