"""The Approvals page: a sick call's proposal in plain words, applied from the page through the
same use case as every door; only roles the permissions pack lets approve get the buttons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from assistant import callers
from assistant.usecases import absences
from clinic.db import Database
from clinic.models import Appointment, Proposal

NY = ZoneInfo("America/New_York")
DIRECTOR, THERAPIST, FRONT_DESK = "s001", "c004", "s004"
Client = Callable[[str], TestClient[Litestar]]


def sick_call(db: Database) -> dict[str, Any]:
    """Brian Romero (c004) calls in sick for the rest of the demo's Monday."""
    therapist = callers.for_staff(db, THERAPIST)
    now = datetime(2026, 11, 30, 10, 0, tzinfo=NY)
    proposal = absences.report_absence(
        db,
        therapist,
        absences.ReportAbsence(THERAPIST, now, datetime(2026, 12, 1, tzinfo=NY), now),
    )
    assert proposal["moves"], "the therapist has sessions that need cover"
    return proposal


def test_empty_state_says_so_in_plain_words(signed_in_client: Client) -> None:
    page = signed_in_client(DIRECTOR).get("/approvals")
    assert page.status_code == 200
    assert "Nothing is waiting for approval" in page.text
    assert "<title>Approvals — Rota</title>" in page.text


def test_a_sick_call_is_listed_with_its_moves_and_applied_from_the_page(
    signed_in_client: Client, demo_db: Database
) -> None:
    proposal = sick_call(demo_db)
    client = signed_in_client(DIRECTOR)
    page = client.get("/approvals")
    assert "Sick call" in page.text and proposal["id"] in page.text
    assert "Brian Romero is out from Mon 30 Nov 10:00" in page.text
    assert page.text.count("<tr>") - 1 == len(proposal["moves"]) + len(proposal["unplaced"])
    assert f'hx-post="/approvals/{proposal["id"]}/apply"' in page.text

    move = proposal["moves"][0]
    done = client.post(f"/approvals/{proposal['id']}/apply", headers={"HX-Request": "true"})
    assert done.status_code == 200, done.text
    assert f"{len(proposal['moves'])} session" in done.text and "moved" in done.text
    with demo_db.read() as session:
        row = session.get(Appointment, move["appointment"])
        assert row is not None and sorted(row.staff_ids) == sorted(move["after"]["staff"])
        assert (
            session.scalar(select(Proposal.status).where(Proposal.id == proposal["id"]))
            == "applied"
        )
    assert "Nothing is waiting for approval" in client.get("/approvals").text


def test_apply_without_the_csrf_token_is_refused_and_nothing_moves(
    signed_in_client: Client, demo_db: Database
) -> None:
    proposal = sick_call(demo_db)
    client = signed_in_client(DIRECTOR)
    client.headers.pop("X-CSRF-Token")
    assert client.post(f"/approvals/{proposal['id']}/apply").status_code == 403
    with demo_db.read() as session:
        assert session.get(Proposal, proposal["id"]).status == "pending"


def test_front_desk_sees_no_approvals_page(signed_in_client: Client, demo_db: Database) -> None:
    proposal = sick_call(demo_db)
    client = signed_in_client(FRONT_DESK)
    page = client.get("/approvals")
    # Front desk decides only a late session's knock-on: a sick call is not theirs to apply.
    assert proposal["id"] not in page.text
    refused = client.post(f"/approvals/{proposal['id']}/apply")
    assert refused.status_code == 403
    with demo_db.read() as session:
        assert session.get(Proposal, proposal["id"]).status == "pending"


def test_a_therapist_who_approves_nothing_gets_a_plain_403(signed_in_client: Client) -> None:
    page = signed_in_client(THERAPIST).get("/approvals")
    assert page.status_code == 403
    assert "does not approve" in page.text and "Traceback" not in page.text


def test_adjust_gives_a_session_another_cover_before_apply(
    signed_in_client: Client, demo_db: Database
) -> None:
    proposal = sick_call(demo_db)
    client = signed_in_client(DIRECTOR)
    move = proposal["moves"][0]
    offered = client.get(f"/approvals/{proposal['id']}/covers/{move['appointment']}")
    assert offered.status_code == 200
    director = callers.for_staff(demo_db, DIRECTOR)
    found = absences.covers(demo_db, director, proposal["id"], move["appointment"])
    other = next((s for s in found if s not in move["after"]["staff"]), None)
    if other is None:
        assert "No one else is free" in offered.text
        return
    changed = client.post(
        f"/approvals/{proposal['id']}/cover",
        data={"appointment": move["appointment"], "staff": other},
    )
    assert changed.status_code == 200, changed.text
    with demo_db.read() as session:
        payload = session.get(Proposal, proposal["id"]).payload
    entry = next(m for m in payload["moves"] if m["appointment"] == move["appointment"])
    assert entry["after"]["staff"] == [other]
