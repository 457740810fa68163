"""Logs never contain PHI (issue 19, item 5): the end-to-end flows run with every logger at
DEBUG (the root, rota.*, Litestar, uvicorn, Bolt, slack_sdk, SQLAlchemy... all inherit it), and
every captured line (log records from every logger, and whatever reached stderr) is scanned
with the roster (every demo patient's full and last name, MRN, phone, email and date of birth)
and with the redactor.

The app's own logging set-up (integrations.log_policy) is what keeps the libraries that would log
bodies, queries and SQL parameters quiet: the test does not configure them, it resets every
logger to inherit DEBUG before the app is built.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from assistant.dialogue import Dialogue
from assistant.jobs import outbox as outbox_job
from assistant.jobs import reminders
from assistant.phi import Redactor
from assistant.roster import read_roster
from clinic.db import Database
from clinic.models import Appointment, AppointmentPatient, Patient, Staff
from integrations.cli.main import run
from integrations.http.app import create_app
from integrations.log_policy import QUIET
from integrations.slack.route import door_of
from integrations.web.session import SESSION_COOKIE
from tests.http.test_api import token
from tests.http.test_chat import Person
from tests.notify.peers import SmtpPeer, TwilioPeer
from tests.slack import harness
from tests.slack.conftest import Slack
from tests.slack.fake_slack import FakeSlack
from tests.web.browser import sign_in

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=NY)
DIRECTOR, CASE_MANAGER, THERAPIST = "s001", "s006", "c004"
PEERS = ("mail",)
"""Loggers of the test's stand-ins for the outside world (aiosmtpd's `mail.log`: the patient's
mail server receives the address, as it must), not Rota's."""
# Memory addresses and random hex ids (request and conversation ids) in debug lines: never patient
# information, but hex letters in them ("0x7f22...becb...") may read as a fuzzy first name to the
# redactor, differently in every run. Only runs with both a digit and a letter a-f, 8 or more long
# (phones and dates have no letters); the roster needles above still scan the raw lines.
_HEX = re.compile(
    r"\b0x[0-9a-f]+\b|\b(?=[0-9a-f-]*[a-f])(?=[0-9a-f-]*\d)[0-9a-f]{8,}(?:-[0-9a-f]{4,})*\b",
    re.IGNORECASE,
)


class Everything(logging.Handler):
    """Every record any logger emits, formatted as a handler would write it (with its
    traceback, if any)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []
        self.names: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in PEERS:
            return
        self.names[record.name] = self.names.get(record.name, 0) + 1
        self.lines.append(self.format(record))


@pytest.fixture()
def everything() -> Iterator[Everything]:
    """Every logger back to inheriting the root's level (as in a fresh process), restored
    afterwards; `open_up` then turns the root to DEBUG once the app has started."""
    manager = logging.root.manager
    loggers = [lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    saved = [(lg, lg.level, lg.disabled, lg.propagate) for lg in [*loggers, logging.root]]
    handler = Everything()
    for lg, _, _, _ in saved:
        lg.setLevel(logging.NOTSET)
    yield handler
    for lg in [*manager.loggerDict.values(), logging.root]:
        if isinstance(lg, logging.Logger) and handler in lg.handlers:
            lg.removeHandler(handler)
    for lg, level, disabled, propagate in saved:
        lg.setLevel(level)
        lg.disabled, lg.propagate = disabled, propagate


def open_up(handler: Everything) -> None:
    """After the app has started (Litestar's logging set-up sets the root to INFO): the root at
    DEBUG, every logger inheriting it except those the app's log policy pins (the test checks
    they are pinned: it does not pin them itself), and the capture on every logger that does
    not propagate to the root."""
    pinned = {n for n in QUIET if logging.getLogger(n).level >= logging.WARNING}
    assert pinned == set(QUIET), f"the app did not pin {set(QUIET) - pinned}"
    logging.root.setLevel(logging.DEBUG)
    logging.root.addHandler(handler)
    for name, lg in list(logging.root.manager.loggerDict.items()):
        if not isinstance(lg, logging.Logger):
            continue
        lg.disabled = False
        if not any(name == q or name.startswith(q + ".") for q in QUIET):
            lg.setLevel(logging.NOTSET)
        if not lg.propagate and handler not in lg.handlers:
            lg.addHandler(handler)


# --- the roster: what must never appear --------------------------------------------------------


@dataclass(frozen=True)
class Needle:
    kind: str
    text: str
    pattern: re.Pattern[str]


def _word(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(text)}(?![\w])", re.IGNORECASE)


def _digits(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\d){re.escape(text)}(?!\d)")


def roster_needles(db: Database) -> tuple[list[Needle], set[str]]:
    """Every demo patient's identifiers as patterns, and the last names left out because a
    staff member (whose name may be logged) or a common word shares them."""
    with db.read() as session:
        patients = [
            Patient(name=p.name, mrn=p.mrn, dob=p.dob, contact=p.contact)
            for p in session.scalars(select(Patient))
        ]
        staff_words = {
            w.lower().strip(".") for s in session.scalars(select(Staff.name)) for w in s.split()
        }
    needles: list[Needle] = []
    shared: set[str] = set()
    for p in patients:
        needles.append(Needle("name", p.name, _word(p.name)))
        last = p.name.split()[-1]
        if last.lower() in staff_words:
            shared.add(last)
        else:
            needles.append(Needle("last name", last, _word(last)))
        if p.mrn:
            needles.append(Needle("MRN", p.mrn, _digits(p.mrn)))
        if p.dob:
            for shown in _date_forms(p.dob):
                needles.append(Needle("date of birth", shown, _digits(shown)))
        contact = p.contact or {}
        if contact.get("phone"):
            phone = str(contact["phone"])
            needles.append(Needle("phone", phone, _digits(phone)))
            national = re.sub(r"\D", "", phone)[-10:]
            if len(national) == 10:
                needles.append(Needle("phone", national, _digits(national)))
        if contact.get("email"):
            email = str(contact["email"])
            needles.append(Needle("email", email, _word(email)))
    return needles, shared


def _date_forms(day: date) -> list[str]:
    """ISO, US, and as Python prints a date (a logged row or tuple): date(1969, 2, 21)."""
    return [
        day.isoformat(),
        f"{day:%m/%d/%Y}",
        f"{day.month}/{day.day}/{day.year}",
        f"{day.year}, {day.month}, {day.day}",
    ]


def leaks(lines: list[str], needles: list[Needle], most: int = 40) -> list[str]:
    """Lines that hold a needle (up to `most`). Needles are indexed by their first word, so a
    line is checked only against those whose first word it contains (logs at DEBUG run to
    hundreds of thousands of lines when a library is not pinned)."""
    by_first: dict[str, list[Needle]] = {}
    for n in needles:
        by_first.setdefault(re.findall(r"\w+", n.text.lower())[0], []).append(n)
    found: list[str] = []
    for line in lines:
        words = set(re.findall(r"\w+", line.lower()))
        for first in words & by_first.keys():
            for n in by_first[first]:
                if n.pattern.search(line):
                    found.append(f"{n.kind} {n.text!r} in: {line[:300]}")
        if len(found) >= most:
            break
    return found


# --- the flows -----------------------------------------------------------------------------------


def _a_booked_patient(db: Database, staff: str) -> tuple[str, str]:
    """A patient of `staff`'s with a session this week, and that patient's name."""
    with db.read() as session:
        row = session.execute(
            select(Patient.id, Patient.name)
            .join(AppointmentPatient, AppointmentPatient.patient_id == Patient.id)
            .join(Appointment, Appointment.id == AppointmentPatient.appointment_id)
            .where(Patient.primary_clinician_id == staff, Appointment.active)
            .limit(1)
        ).first()
    assert row is not None
    return row[0], row[1]


def run_every_flow(
    db: Database,
    client: TestClient[Any],
    slack: Slack,
    set_now: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
    smtp: SmtpPeer,
    twilio: TwilioPeer,
) -> dict[str, Any]:
    """Each door once, with patient names in what people type; what each flow returned."""
    seen: dict[str, Any] = {}
    pid, name = _a_booked_patient(db, THERAPIST)

    # Chat booking via /api/chat.
    case_manager = Person(client, db, CASE_MANAGER)
    offered = case_manager.says(f"find an individual slot for {name} tomorrow afternoon")
    seen["chat_options"] = len(offered["options"])
    if offered["options"]:
        seen["chat_booked"] = case_manager.says("book option 1")["reply"][:7]

    # A sick call and its repair, approved by the director.
    therapist, director = Person(client, db, THERAPIST), Person(client, db, DIRECTOR)
    told = therapist.says("I'm out sick today")
    seen["sick_call"] = "for approval" in told["reply"]
    seen["repair"] = director.says("apply")["reply"].startswith("Applied proposal")

    # A Slack DM through the real Bolt route, and a forged one (bad signature) naming a patient.
    slack.dm(CASE_MANAGER, f"find a slot for {name} this week")
    slack.dm(CASE_MANAGER, "book option 1")
    slack.wait()
    seen["slack_dms"] = len(slack.dm_to(CASE_MANAGER))
    forged_body = harness.event_body(harness.dm_event(slack.user[CASE_MANAGER], f"cancel {name}"))
    data, headers = harness.signed(forged_body, "application/json", secret="not-the-secret")
    seen["forged"] = client.post("/slack/events", content=data, headers=headers).status_code
    # A slash command Rota has no listener for: Bolt warns "Unhandled request ({the body})".
    other = harness.command_body(slack.user[CASE_MANAGER], "C0FRONT", f"{name} arrived")
    other = other.replace("command=%2Frota", "command=%2Fbook")
    seen["unhandled"] = slack.post(other, "application/x-www-form-urlencoded").status_code

    # The web board and a patient page, signed in.
    cookie, csrf = sign_in(db, DIRECTOR)
    web = TestClient(client.app)
    web.cookies.set(SESSION_COOKIE, cookie)
    web.headers["X-CSRF-Token"] = csrf
    seen["board"] = web.get("/board").status_code
    seen["patient_page"] = web.get(f"/patients/{pid}").status_code
    seen["board_find"] = web.get("/board/find", params={"q": name}).status_code

    # FHIR reads: the patient's appointments by search, one of them by id.
    bearer = token(db, DIRECTOR)
    search = client.get(
        "/fhir/r4/Appointment", params={"patient": f"Patient/{pid}"}, headers=bearer
    )
    seen["fhir_search"] = search.status_code
    entries = search.json().get("entry") or [{}]
    appointment = entries[0].get("resource", {}).get("id")
    seen["fhir_read"] = client.get(
        f"/fhir/r4/Appointment/{appointment}", headers=bearer
    ).status_code

    # A REST read and a bad request carrying a name.
    seen["agenda_api"] = client.get(f"/api/patients/{pid}/agenda", headers=bearer).status_code
    seen["bad_request"] = client.post(
        "/api/patients", json={"name": name, "level_of_care": "nine"}, headers=bearer
    ).status_code

    # Reminders through the outbox, to real SMTP and Twilio peers (the `channels` fixture).
    ten = NOW.replace(hour=10)
    set_now(ten)
    seen["reminders"] = reminders.run(db, ten).get("queued", 0)
    seen["outbox"] = outbox_job.run(db, ten)
    seen["delivered"] = len(smtp.mailbox.messages) + len(twilio.received)
    set_now(NOW)

    # The command line's agenda, for the patient and for the therapist.
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)
    seen["cli_agenda"] = run(["agenda", "--patient", pid, "--day", "2026-11-30"])
    seen["cli_staff_agenda"] = run(["agenda", "--staff", THERAPIST, "--day", "2026-11-30"])
    return seen


@pytest.fixture()
def slack_app(
    demo_db: Database,
    slack_env: None,
    fake_slack: FakeSlack,
    everything: Everything,
    set_now: Callable[[datetime], None],
) -> Iterator[tuple[TestClient[Any], Slack]]:
    set_now(NOW)
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    door = door_of(app)
    assert door is not None
    with TestClient(app) as client:
        open_up(everything)
        yield client, Slack(client, door, fake_slack, demo_db)


def test_no_log_line_names_a_patient_at_debug(
    demo_db: Database,
    slack_app: tuple[TestClient[Any], Slack],
    everything: Everything,
    capfd: pytest.CaptureFixture[str],
    set_now: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
    channels: list[str],
    smtp: SmtpPeer,
    twilio: TwilioPeer,
) -> None:
    client, slack = slack_app
    seen = run_every_flow(demo_db, client, slack, set_now, monkeypatch, smtp, twilio)
    # The flows ran (a quiet log of flows that never happened would prove nothing).
    assert seen["chat_options"] and seen["chat_booked"] == "Booked:", seen
    assert seen["sick_call"] and seen["repair"], seen
    assert seen["slack_dms"] >= 2 and seen["forged"] == 401, seen
    assert seen["unhandled"] in {200, 404}, seen
    assert seen["board"] == seen["patient_page"] == 200, seen
    assert seen["fhir_read"] == seen["fhir_search"] == 200, seen
    assert seen["bad_request"] in {400, 422} and seen["agenda_api"] == 200, seen
    assert seen["reminders"] and seen["delivered"], seen
    assert seen["cli_agenda"] == seen["cli_staff_agenda"] == 0, seen

    _, err = capfd.readouterr()
    # stderr: Litestar's root handler writes every record there too (the peers' lines left out)
    lines = everything.lines + [
        line for line in err.splitlines() if not any(f" - {p}." in line for p in PEERS)
    ]
    assert len(everything.lines) > 50, "DEBUG logging must actually have been captured"
    # Bolt's warning about the unhandled event was heard, its body withheld (the door's filter)
    assert any("Unhandled request" in line for line in lines), "the Slack error path ran"
    assert all("[request body withheld]" in line for line in lines if "Unhandled" in line)
    heard = dict(everything.names)
    needles, shared = roster_needles(demo_db)
    found = leaks(lines, needles)
    assert not found, "\n".join(found[:40])

    # The redactor (Presidio + the roster's recognizers) finds no patient in any line. Staff
    # names and ids it may flag (not patient information) are reported, not failed on.
    redactor = Redactor(read_roster(demo_db))
    flagged = []
    for line in {_HEX.sub("<hex>", line) for line in lines}:
        for entity in redactor.leaks(line):
            if entity.type in {"PATIENT", "MRN", "DATE_OF_BIRTH", "PHONE_NUMBER", "EMAIL_ADDRESS"}:
                flagged.append(
                    f"{entity.type}: {line[entity.start : entity.end]!r} in {line[:200]}"
                )
    assert not flagged, "\n".join(flagged[:40])
    print(json.dumps({"lines": len(lines), "loggers": heard, "shared_last_names": sorted(shared)}))


def test_sql_parameters_are_never_in_an_error_message(demo_db: Database) -> None:
    """SQLAlchemy puts a failed statement's parameters in the exception's text (which jobs and
    doors log); the engine hides them."""
    from sqlalchemy.exc import IntegrityError

    with demo_db.read() as session:
        name = session.scalar(select(Patient.name).limit(1))
    assert name
    with pytest.raises(IntegrityError) as failed, demo_db.session() as session:
        session.add(Patient(id="p0001", name=name))
        session.flush()
    assert name not in str(failed.value)
    assert "hidden due to hide_parameters" in str(failed.value)


def test_the_libraries_that_log_bodies_are_pinned_whatever_the_root_level(
    everything: Everything,
) -> None:
    from integrations.log_policy import protect_logs

    protect_logs()
    for name in ("sqlalchemy.engine", "slack_bolt", "slack_sdk", "uvicorn.access", "httpx"):
        assert name in QUIET
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    assert logging.getLogger("rota.jobs").isEnabledFor(logging.DEBUG)  # ours stay audible


def test_a_failing_job_logs_its_class_never_its_words(
    demo_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A job's exception may name a patient ("no slot for Kevin Fowler"): the log says which
    job failed and how, the job's own record keeps the words for `rota jobs history`."""
    from assistant.jobs import JOBS, history, job, run_job
    from clinic.errors import InvalidInput

    _, name = _a_booked_patient(demo_db, THERAPIST)

    @job("phi-probe", every_minutes=60)
    def probe(db: Database, now: datetime) -> dict[str, Any]:
        """Fails naming a patient."""
        raise InvalidInput(f"no slot for {name}")

    caplog.set_level(logging.DEBUG)
    try:
        outcome = run_job(demo_db, "phi-probe", NOW)
    finally:
        JOBS.pop("phi-probe", None)
    assert outcome.status == "failed" and name in (outcome.error or "")
    assert any(
        "phi-probe" in r.getMessage() and "InvalidInput" in r.getMessage() for r in caplog.records
    )
    assert name not in caplog.text
    assert name in (history(demo_db, None, 1)[0].error or "")
