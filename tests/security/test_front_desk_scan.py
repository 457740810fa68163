"""A front-desk session never receives a clinical field (issue 19, PRIV-06 minimum necessary).

The front desk (demo s004, role `front_desk`: name, date of birth, phone, time, room and
clinician only) walks every
GET route of the app — the REST API with real demo ids, FHIR reads and searches, the web pages
and their fragments, a room's calendar feed — plus the conversation over both chat doors and
the writes the front desk makes itself (check-in, running late). Every response body is scanned
for the demo patients' clinical detail, built from the demo data itself: court orders, payer
authorizations, contacts (but the phone) and family, appointment and waitlist notes, MRNs, and
the words for levels of care, phases, needs, session types, groups and medication; and for the
keys of what the desk has no need of (sex, MRN, admission date, no-show risk).

The same walk as the clinical director must find most of those kinds of detail, so the scan
cannot pass because it looks for nothing; and every GET route the app serves must be visited
(or listed below with the reason it carries no patient), so a new route is scanned or named.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from assistant import callers
from assistant.dialogue import Dialogue
from assistant.usecases import absences, appointments, feeds
from clinic.db import Database
from clinic.models import Appointment, SessionType
from clinic.tokens import create_token
from integrations.http.app import create_app
from integrations.web.session import SESSION_COOKIE
from tests.conftest import pin_clock
from tests.web.browser import sign_in

pytestmark = pytest.mark.slow  # scheduled first (tests/conftest.py)

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=NY)
demo_clock = pin_clock(NOW)
FRONT_DESK, CLINICAL_DIRECTOR, CASE_MANAGER, THERAPIST = "s004", "s001", "s006", "c004"
WEEK = ("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04")

# Routes that carry no patient at all, and why they are not walked.
NOT_WALKED = {
    "/health": "liveness only",
    "/ready": "the database's migration, no rows",
    "/metrics": "counts by route template, no rows",
    "/static/swagger/{file_path:path}": "vendored Swagger UI files",
    "/static/web/{file_path:path}": "the web's own CSS and scripts",
    "/schema": "the OpenAPI document's pages (no data)",
    "/schema/swagger": "the OpenAPI document's pages (no data)",
    "/schema/{path:str}": "the OpenAPI document's pages (no data)",
    "/schema/openapi.json": "the OpenAPI document (no data)",
    "/schema/oauth2-redirect.html": "the OpenAPI document's pages (no data)",
    "/signin": "the sign-in form, before anyone is known",
    "/signin/link": "the sign-in link page, before anyone is known",
}
# Where a session type is offered to choose from, not said of anyone: the find-a-slot dialog's
# menu, and FHIR's open slots and schedules (a slot is free time, with no patient).
CATALOGUES = ("/board/find", "/fhir/r4/Slot", "/fhir/r4/Schedule", "/fhir/r4/$bulk-publish")
# JSON keys that carry what the desk may not see when they hold a value: clinical detail, and
# the demographics and prediction minimum necessary leaves out (the permissions pack).
CLINICAL_KEYS = frozenset(
    {
        "level_of_care", "phase", "needs", "requirements", "court_order", "court_orders",
        "authorization", "authorizations", "consents", "consent_disclose_to",
        "family_contacts", "note", "notes", "session_type", "group", "acuity", "serviceType",
        "serviceCategory", "appointmentType", "reasonCode", "mrn", "sex", "gender", "admitted",
        "no_show_risk", "high_no_show_risk",
    }
)  # fmt: skip
# A patient's contact details: the desk may see the phone only (to call someone running late).
CONTACT_SHOWN = frozenset({"phone"})
MEDICATION = ("medication", "methadone", "buprenorphine", "suboxone", "naltrexone", "vivitrol")
CHAT = (
    "show Elizabeth Cabrera's schedule this week",
    "when is Kevin Fowler's next session",
    "what does Kevin Fowler need",
    "what's on Brian Romero's schedule tomorrow",
    "who is on the waitlist",
    "what is waiting for approval",
    "find a slot for Elizabeth Cabrera tomorrow afternoon",
)
NOTE = "Takes methadone before the session; court reporting due Friday"
WAITLIST_NOTE = "Prefers mornings; recovering from detox"


@dataclass
class Walk:
    """Each response the walk received: (method and path, status, body)."""

    bodies: list[tuple[str, int, str]] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)


def forbidden(demo_data: dict[str, Any], session_types: dict[str, str]) -> dict[str, str]:
    """Clinical values of the demo patients → the kind of detail each is (matched as whole
    words, any case). Values unique to one patient are looked for as they are; the words a kind
    shares (a phase, a level of care) in the forms the doors write them, leaving out everyday
    words a room or a menu also uses ("individual", "group", "intake")."""
    found: dict[str, str] = {NOTE: "note", WAITLIST_NOTE: "note"}
    for p in demo_data["patients"]:
        order = p.get("court_order")
        if order:
            found[order["case_number"]] = found[order["court"]] = "court_order"
        for auth in p.get("authorizations", []):
            found[auth["id"]] = found[auth["payer"]] = "authorization"
        for relative in p.get("family_contacts", []):
            found[relative["name"]] = "contact"
        email = p.get("contact", {}).get("email")
        if email:
            found[email] = "contact"
        if p.get("mrn"):
            found[p["mrn"]] = "mrn"
        found[f"Level of care {p['level_of_care']}"] = "level_of_care"
        for need in p.get("needs", []):
            found[f"needs: {need}"] = "needs"
    for phase in {p["phase"] for p in demo_data["patients"]}:
        found[f"phase: {phase.replace('_', ' ')}"] = "phase"
        if phase != "intake":
            found[phase.replace("_", " ")] = found[phase] = "phase"
    for group in demo_data["groups"]:
        found[group["name"]] = "group"
    for code, name in session_types.items():
        found[name] = "session_type"
        if "_" in code:
            found[code] = "session_type"
    for word in MEDICATION:
        found[word] = "medication"
    found["court order"] = found["probation"] = "court_order"
    return found


def clinical_keys(body: str) -> list[str]:
    """Clinical keys holding a value anywhere in a JSON body (none for other bodies). The
    conversation's `frame` is the caller's own message read back, not a record."""
    try:
        document = json.loads(body)
    except ValueError:
        return []
    hits: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "frame":
                    continue
                if key in CLINICAL_KEYS and value not in (None, [], {}, ""):
                    hits.append(f"{path}.{key}")
                if key == "contact" and isinstance(value, dict) and set(value) - CONTACT_SHOWN:
                    hits.append(f"{path}.{key}")
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, f"{path}[]")

    walk(document, "$")
    return hits


def leaks(walk: Walk, values: dict[str, str]) -> list[str]:
    """One line per clinical value found: where, what kind, which value. All values are one
    pattern (longest first, tried at every position), so a body is read once, not once per
    value."""
    # A refusal quotes the rule, the same for everyone ("... a court or probation officer");
    # a catalogue lists session types: there only a patient's own values count.
    generic = {
        v for v, kind in values.items() if kind in {"session_type", "medication", "phase"}
    } | {"court order", "probation"}
    own = any_of([v for v in values if v not in generic])
    every = any_of(list(values))
    named = {value.casefold(): f"{kind} {value!r}" for value, kind in values.items()}
    out = []
    for where, status, body in walk.bodies:
        catalogue = where.split(" ", 1)[1].startswith(CATALOGUES)
        pattern = own if status >= 400 or catalogue else every
        found = (named.get(m.group(1).casefold(), m.group(1)) for m in pattern.finditer(body))
        out += [f"{where} [{status}]: {what}" for what in dict.fromkeys(found)]
        if status < 400 and not catalogue:
            out += [f"{where} [{status}]: key {key}" for key in clinical_keys(body)]
    return out


def any_of(values: list[str]) -> re.Pattern[str]:
    """Any of the values as a whole word, any case, found even where a longer one starts."""
    alternation = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return re.compile(rf"(?=(?<![\w-])({alternation})(?![\w-]))", re.IGNORECASE)


def seed(db: Database, client: TestClient) -> dict[str, str]:
    """What the demo lacks for some routes to answer with a patient: a note on sessions, a
    waitlist entry and its offers, a late patient's knock-on, a sick call, a weekly series."""
    director = callers.for_staff(db, CLINICAL_DIRECTOR)
    with db.session() as session:
        for appointment_id in ("a00216", "a00267", "a00003"):
            row = session.get(Appointment, appointment_id)
            assert row is not None
            row.note = NOTE
    manager = bearer(db, CASE_MANAGER)
    entry = client.post(
        "/api/waitlist",
        json={"patient": "p0041", "session_type": "individual", "days": ["tue"],
              "time_from": "12:00", "note": WAITLIST_NOTE},
        headers=manager,
    )  # fmt: skip
    assert entry.status_code == 201, entry.text
    appointments.cancel(
        db, director, appointments.Cancel("a00214", "in hospital", override_reason="in hospital")
    )
    late = client.post(
        "/api/appointments/a00267/delay",
        json={"minutes": 20, "kind": "over", "propose": True},
        headers=bearer(db, THERAPIST),
    )
    assert late.status_code == 200, late.text
    sick = absences.report_absence(
        db,
        callers.for_staff(db, "c003"),
        absences.ReportAbsence(
            "c003", NOW + timedelta(days=1), NOW + timedelta(days=1, hours=8), now=NOW
        ),
    )
    series = client.post(
        "/api/series",
        json={"patient": "p0002", "staff": "c004", "session_type": "individual",
              "weekday": "thu", "time": "16:00", "count": 3, "skip_failing": True},
        headers=bearer(db, CLINICAL_DIRECTOR),
    )  # fmt: skip
    assert series.status_code == 201, series.text
    return {
        "sick_call": sick["id"],
        "sick_session": sick["moves"][0]["appointment"] if sick.get("moves") else "a00003",
        "series": series.json()["series"]["id"],
        "knock_on": late.json()["proposal"]["id"],
    }


def bearer(db: Database, staff: str) -> dict[str, str]:
    with db.session() as session:
        return {"Authorization": f"Bearer {create_token(session, staff)}"}


def routes_of(app: Litestar) -> set[str]:
    return {
        route.path
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if "GET" in (getattr(handler, "http_methods", None) or ())
    }


@pytest.fixture()
def world(
    demo_db: Database, demo_data: dict[str, Any]
) -> Iterator[tuple[Litestar, TestClient, dict[str, str]]]:
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    with TestClient(app) as client:
        yield app, client, seed(demo_db, client)


def walk_as(
    db: Database,
    app: Litestar,
    client: TestClient,
    staff: str,
    ids: dict[str, str],
    demo_data: dict[str, Any],
    chat: tuple[str, ...] = (),
    *,
    sample: bool = False,
) -> Walk:
    """Every door, as one staff member: bearer token for the API and FHIR, a session for the
    web pages, the conversation over both chat doors (`chat`: what is said; it costs most).
    `sample`: every route still, but a few patients, staff, rooms and one day of the board
    (enough to show what the scan finds, at a third of the cost)."""
    walk = Walk()
    token = bearer(db, staff)
    cookie, csrf = sign_in(db, staff)
    web = {"X-CSRF-Token": csrf, "Cookie": f"{SESSION_COOKIE}={cookie}"}
    matched = {
        "[^/]+".join(map(re.escape, re.split(r"\{[^}]+\}", route))) + "$": route
        for route in routes_of(app)
    }

    def fetch(path: str, *, method: str = "GET", **kwargs: Any) -> Any:
        headers = {**token, **web, **kwargs.pop("headers", {})}
        response = client.request(method, path, headers=headers, **kwargs)
        walk.bodies.append((f"{method} {path}", response.status_code, response.text))
        bare = path.split("?", 1)[0]
        walk.visited |= {r for pattern, r in matched.items() if re.match(pattern, bare)}
        return response

    patients = patients_to_walk(demo_data)
    week = [a for a in demo_data["appointments"] if a["start"][:10] in WEEK]
    kinds = {a["session_type"]: a["id"] for a in week}
    rooms = [r["id"] for r in demo_data["rooms"]]
    staff_ids = [s["id"] for s in demo_data["staff"]]
    days, day_blocks = WEEK, {a["id"] for a in week if a["start"][:10] == WEEK[1]}
    if sample:
        patients = list(dict.fromkeys([*patients[:2], "p0041", "p0002"]))
        rooms, staff_ids, days, day_blocks = rooms[:2], staff_ids[:2], WEEK[1:2], set()

    # -- the REST API -------------------------------------------------------------------------
    span = "from=2026-11-16&to=2026-12-31"
    fetch("/api/appointments")
    fetch(f"/api/appointments?{span}")
    fetch("/api/patients")  # the caseload: every patient, to the front desk
    for p in patients:
        fetch(f"/api/patients/{p}")
        fetch(f"/api/patients/{p}/agenda?{span}")
        fetch(f"/api/patients/{p}/court-report")
        fetch(f"/api/appointments?{span}&patient={p}")
    for s in staff_ids:
        fetch(f"/api/staff/{s}/agenda?{span}")
    for r in rooms:
        fetch(f"/api/appointments?{span}&room={r}")
    for path in ("/api/attendance/unmarked", "/api/attendance/unmarked?day=2026-12-01",
                 "/api/proposals", "/api/capacity", "/api/sms/replies", "/api/waitlist",
                 "/api/waitlist/offers", f"/api/series/{ids['series']}"):  # fmt: skip
        fetch(path)
    # -- FHIR ---------------------------------------------------------------------------------
    fhir = {"Accept": "application/fhir+json"}
    for path in ("/fhir/r4/metadata", "/fhir/r4/Practitioner", "/fhir/r4/Location",
                 "/fhir/r4/Schedule", "/fhir/r4/Slot?start=ge2026-12-01&start=lt2026-12-02",
                 "/fhir/r4/Appointment?date=2026-12-01",
                 "/fhir/r4/$bulk-publish"):  # fmt: skip
        fetch(path, headers=fhir)
    for p in patients:
        fetch(f"/fhir/r4/Appointment?patient=Patient/{p}", headers=fhir)
    for a in kinds.values():
        fetch(f"/fhir/r4/Appointment/{a}", headers=fhir)
    fetch(f"/fhir/r4/Practitioner/{staff_ids[0]}", headers=fhir)
    fetch(f"/fhir/r4/Location/{rooms[0]}", headers=fhir)
    schedule = client.get("/fhir/r4/Schedule", headers={**token, **fhir}).json()["entry"][0]
    fetch(f"/fhir/r4/Schedule/{schedule['resource']['id']}", headers=fhir)
    slots = client.get("/fhir/r4/Slot", headers={**token, **fhir}).json()["entry"][0]
    fetch(f"/fhir/r4/Slot/{slots['resource']['id']}", headers=fhir)
    for name in ("locations", "schedules", "slots"):
        fetch(f"/fhir/r4/$bulk-publish/{name}.ndjson", headers=fhir)
    # -- the web pages and their fragments ------------------------------------------------------
    fetch("/")
    for day in days:
        fetch(f"/board?day={day}")
        fetch(f"/board?day={day}&by=room")
        fetch(f"/board/grid?day={day}")
    for a in sorted(day_blocks | set(kinds.values())):
        fetch(f"/board/blocks/{a}")
    fetch("/board/blocks/a00267/move")
    fetch("/board/find")
    fetch("/dashboard")
    fetch("/dashboard/court.csv")
    fetch("/approvals")
    fetch(f"/approvals/{ids['sick_call']}/covers/{ids['sick_session']}")
    for p in patients:
        fetch(f"/patients/{p}")
    # -- a room's calendar feed (the front desk manages rooms) -----------------------------------
    caller = callers.for_staff(db, staff)
    if caller.role in ("front_desk", "clinical_director"):
        issued = feeds.issue(db, caller, "room", "gro-1")
        fetch(issued.path)
    # -- the conversation (the API's chat, and the web's panel on the same dialogue) -----------
    for message in chat:
        fetch("/api/chat", method="POST", json={"message": message})
    for message in chat[:2]:
        fetch("/chat", method="POST", data={"message": message})
    # -- what the front desk writes itself ---------------------------------------------------------
    fetch("/api/appointments/a00219/check-in", method="POST", json={})
    fetch("/api/appointments/a00283/delay", method="POST", json={"minutes": 10})
    return walk


def patients_to_walk(demo_data: dict[str, Any]) -> list[str]:
    """Every patient with a court order, the first with each other kind of detail, and the
    ones the seed gives a waitlist entry (p0041) or a note (p0002)."""
    people = demo_data["patients"]
    chosen = [p["id"] for p in people if "court_order" in p]
    for kind in ("authorizations", "family_contacts", "needs", "preferences"):
        chosen.append(next(p["id"] for p in people if p.get(kind) and p["id"] not in chosen))
    chosen.append(next(p["id"] for p in people if p["phase"] == "withdrawal_management"))
    return list(dict.fromkeys([*chosen, "p0041", "p0002"]))


def session_types(db: Database) -> dict[str, str]:
    with db.read() as session:
        return {row.id: row.name for row in session.scalars(select(SessionType))}


# The kinds of clinical detail the walk must find for the clinical director (so the scan looks
# for what is there).
KINDS = {"court_order", "authorization", "contact", "note", "level_of_care", "phase", "needs",
         "session_type", "group", "medication", "mrn"}  # fmt: skip


def test_the_front_desk_receives_no_clinical_detail_from_any_door(
    world: tuple[Litestar, TestClient, dict[str, str]],
    demo_db: Database,
    demo_data: dict[str, Any],
) -> None:
    app, client, ids = world
    values = forbidden(demo_data, session_types(demo_db))
    desk = walk_as(demo_db, app, client, FRONT_DESK, ids, demo_data, CHAT)
    assert sorted(routes_of(app) - desk.visited - set(NOT_WALKED)) == []  # every GET route
    served = [where for where, status, _ in desk.bodies if status < 400]
    assert len(served) > 150, len(served)  # the walk was let in, not refused at the door
    assert leaks(desk, values) == []

    # The director says less: the rest of the walk finds every kind already.
    director = walk_as(
        demo_db, app, client, CLINICAL_DIRECTOR, ids, demo_data, CHAT[:1], sample=True
    )
    found = leaks(director, values)
    kinds = {line.split("]: ", 1)[1].split(" ", 1)[0] for line in found}
    assert kinds >= KINDS | {"key"}, sorted(kinds)
    seen_by_director = {line.split(" [", 1)[0] for line in found}
    assert {"GET /api/patients/p0002", "GET /patients/p0002", "GET /api/waitlist"} <= (
        seen_by_director
    )
