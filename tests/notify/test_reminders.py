"""Reminders and change notices reach real protocol peers on loopback (demo 's', Mon 30 Nov
2026, America/New_York): an SMTP server (aiosmtpd) and a server speaking Twilio's Messages
API. Each message is claimed by its key, so jobs run twice send it once; each is a disclosure
the consent pack judges, and a refusal is audited, never sent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import Message
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from assistant import callers
from assistant.jobs import outbox as outbox_job
from assistant.jobs import reminders
from assistant.usecases import appointments, patients
from clinic.db import Database
from clinic.models import Appointment, AppointmentPatient, AuditEvent, Patient
from clinic.outbox_models import OutboxMessage
from integrations.cli.main import run
from tests.notify.conftest import MONDAY_10AM
from tests.notify.peers import SmtpPeer, TwilioPeer

TZ = ZoneInfo("America/New_York")
FORBIDDEN_WORDS = ("treatment", "recovery", "addiction", "substance", "therapy", "group", "detox")


def words(mail: Message) -> str:
    return mail.get_payload(decode=True).decode()


def often_missing(db: Database, now: datetime, count: int = 3) -> set[str]:
    """Make `count` patients booked 2–24 hours after `now` miss every session they had (test
    set-up, written directly): their no-show risk is then high."""
    with db.session() as session:
        soon = session.scalars(
            select(AppointmentPatient.patient_id).where(
                AppointmentPatient.status == "booked",
                AppointmentPatient.start > now + timedelta(hours=2),
                AppointmentPatient.start <= now + timedelta(hours=24),
            )
        )
        chosen: set[str] = set()
        for pid in soon:
            past = list(
                session.scalars(
                    select(AppointmentPatient).where(
                        AppointmentPatient.patient_id == pid,
                        AppointmentPatient.status.in_(("attended", "no_show")),
                        AppointmentPatient.start < now,
                    )
                )
            )
            if len(past) >= 4 and pid not in chosen:
                for link in past:
                    link.status = "no_show"
                chosen.add(pid)
            if len(chosen) == count:
                break
    return chosen


def run_day(db: Database, now: datetime) -> dict[str, int]:
    """What the scheduler does: the reminders job, then the outbox job."""
    queued = reminders.run(db, now)
    outbox_job.run(db, now)
    return queued


def outbox_rows(db: Database) -> list[OutboxMessage]:
    with db.read() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()  # plain snapshots for the assertions
        return rows


def audit(db: Database, action: str) -> list[AuditEvent]:
    with db.read() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        session.expunge_all()
        return rows


def test_one_email_and_one_sms_per_appointment_and_window_even_when_the_jobs_run_twice(
    demo_db: Database,
    at: Callable[[datetime], None],
    channels: list[str],
    smtp: SmtpPeer,
    twilio: TwilioPeer,
) -> None:
    assert channels == ["email", "sms"]
    at(MONDAY_10AM)
    first = run_day(demo_db, MONDAY_10AM)
    again = run_day(demo_db, MONDAY_10AM)
    assert first["queued"] > 0 and again.get("queued", 0) == 0
    assert again["duplicate"] == first["queued"] + first["refused"]

    sent = [r for r in outbox_rows(demo_db) if r.status == "sent"]
    emails = [r for r in sent if r.channel == "email"]
    texts = [r for r in sent if r.channel == "sms"]
    assert len(sent) == first["queued"] and emails and texts
    # The real peers got exactly one message per queued reminder, to the patient's address.
    assert sorted(m["To"] for m in smtp.mailbox.messages) == sorted(r.recipient for r in emails)
    assert sorted(m["To"] for m in twilio.received) == sorted(r.recipient for r in texts)
    assert len({m["Message-ID"] for m in smtp.mailbox.messages}) == len(emails)
    # One reminder per appointment, patient and window: the keys say so.
    assert max(Counter(r.key for r in sent).values()) == 1

    mail = smtp.mailbox.messages[0]
    body = words(mail)
    assert mail["Subject"] == "Appointment reminder" and mail["From"] == "appointments@example.org"
    assert "12 Elm Street" in body and "555-0100" in body and "Reply C" in body
    for text in [*(words(m).lower() for m in smtp.mailbox.messages)] + [
        t["Body"].lower() for t in twilio.received
    ]:
        assert not any(word in text for word in FORBIDDEN_WORDS), text
    assert all(t["From"] == "+15550001111" for t in twilio.received)

    # Every delivery audited: recipient (masked), channel, template, appointments; never words.
    delivered = audit(demo_db, "outbox.sent")
    assert len(delivered) == len(sent)
    record = delivered[0].after or {}
    assert set(record) == {
        "recipient",
        "patient",
        "channel",
        "template",
        "appointments",
        "attempts",
    }
    assert "***" in record["recipient"] and record["appointments"]
    assert all(not r.context for r in sent)  # the words' ingredients forgotten once sent

    # Later the same day a 2-hour window opens for some: new reminders, the 48-hour ones not again.
    later = MONDAY_10AM + timedelta(hours=3)
    at(later)
    run_day(demo_db, later)
    keys = [r.key for r in outbox_rows(demo_db) if r.status == "sent"]
    assert len(keys) > len(sent) and len(keys) == len(set(keys))
    assert len(smtp.mailbox.messages) + len(twilio.received) == len(keys)


def test_the_window_that_opened_is_due_and_nothing_goes_at_night(
    demo_db: Database, at: Callable[[datetime], None], channels: list[str]
) -> None:
    night = datetime.fromisoformat("2026-11-30T23:30:00-05:00")
    at(night)
    assert reminders.run(demo_db, night) == {"night": True, "queued": 0}
    assert outbox_rows(demo_db) == []
    morning = datetime.fromisoformat("2026-12-01T08:00:00-05:00")
    at(morning)
    assert often_missing(demo_db, morning)
    reminders.run(demo_db, morning)
    rows = outbox_rows(demo_db)
    assert rows and {r.key.rsplit(":", 1)[1] for r in rows} == {"48h", "24h", "2h"}
    with demo_db.read() as session:
        ids = {r.key.split(":")[1] for r in rows}
        booked = list(session.scalars(select(Appointment).where(Appointment.id.in_(ids))))
        risky = reminders.high_risk(session, booked, morning)
    # An appointment 25 hours ahead has its 48-hour reminder due now (none sent before); the
    # narrowest open window is the one sent (24 hours too for a patient who often misses).
    for row in rows:
        start = datetime.fromisoformat(row.key.split(":", 3)[3].rsplit(":", 1)[0])
        window = int(row.key.rsplit(":", 1)[1].removesuffix("h"))
        assert start - timedelta(hours=window) <= morning < start
        pair = (row.key.split(":")[1], row.patient_id)
        assert window == reminders.due_window(start, morning, pair in risky)
        if timedelta(hours=24) < start - morning:
            assert window == 48


def test_a_patient_who_often_misses_also_gets_a_24_hour_reminder(
    demo_db: Database, at: Callable[[datetime], None]
) -> None:
    at(MONDAY_10AM)
    missing = often_missing(demo_db, MONDAY_10AM)
    with demo_db.read() as session:
        booked = list(
            session.scalars(
                select(Appointment).where(
                    Appointment.status == "booked",
                    Appointment.start > MONDAY_10AM,
                    Appointment.start <= MONDAY_10AM + timedelta(hours=48),
                )
            )
        )
        risky = reminders.high_risk(session, booked, MONDAY_10AM)
        expected = {p for a in booked for p in a.patient_ids}
    start = MONDAY_10AM + timedelta(hours=20)
    assert reminders.due_window(start, MONDAY_10AM, risky=False) == 48
    assert reminders.due_window(start, MONDAY_10AM, risky=True) == 24
    assert reminders.due_window(MONDAY_10AM + timedelta(hours=49), MONDAY_10AM, False) is None
    # Those who missed every session are at high risk (their smoothed rate, with no model
    # stored); most patients are not.
    assert missing and missing <= {pid for _, pid in risky}
    assert len({pid for _, pid in risky}) < len(expected) / 2


def test_revoked_consent_and_a_part_2_patient_without_consent_get_nothing_and_it_is_audited(
    demo_db: Database,
    at: Callable[[datetime], None],
    channels: list[str],
    smtp: SmtpPeer,
    twilio: TwilioPeer,
) -> None:
    at(MONDAY_10AM)
    operator = callers.for_actor(demo_db, "operator")
    reminders.run(demo_db, MONDAY_10AM)
    queued = {r.patient_id: r for r in outbox_rows(demo_db) if r.status == "pending"}
    refused = {r.patient_id: r for r in outbox_rows(demo_db) if r.status == "refused"}
    assert queued and refused
    # A patient who never opted in (every patient here is a Part 2 patient): refused, audited.
    never = next(iter(refused))
    event = next(e for e in audit(demo_db, "disclosure.refused") if e.entity_id == never)
    assert "PRIV-REMINDER-OPT-IN" in str(event.decision)
    assert (event.after or {})["template"] == "reminder" and "body" not in (event.after or {})

    # A patient revokes their consent after a reminder was queued: it is withheld, audited.
    def start_of(row: OutboxMessage) -> datetime:
        return datetime.fromisoformat(row.key.split(":", 3)[3].rsplit(":", 1)[0])

    revoker = next(
        p
        for p, r in queued.items()
        if r.channel == "sms"
        and start_of(r) - MONDAY_10AM > timedelta(hours=3)
        and not reminders.is_night((start_of(r) - timedelta(hours=1)).astimezone(TZ).time())
    )
    patients.update(
        demo_db,
        operator,
        patients.Update(revoker, {"contact": {"consent_reminders": False}}, reason="revoked"),
    )
    outbox_job.run(demo_db, MONDAY_10AM)
    texts_to = {t["To"] for t in twilio.received}
    mails_to = {m["To"] for m in smtp.mailbox.messages}
    assert queued[revoker].recipient not in texts_to
    assert refused[never].recipient not in texts_to | mails_to
    withheld = [
        e for e in audit(demo_db, "outbox.withheld") if (e.after or {})["patient"] == revoker
    ]
    owed = [r for r in outbox_rows(demo_db) if r.patient_id == revoker]
    assert len(withheld) == len(owed) >= 1 and {r.status for r in owed} == {"refused"}
    assert withheld[0].reason == "consent withdrawn"
    # Later windows are judged again, and refused while consent is withdrawn.
    later = start_of(queued[revoker]) - timedelta(hours=1)  # its 2-hour window is open
    at(later)
    reminders.run(demo_db, later)
    outbox_job.run(demo_db, later)
    assert queued[revoker].recipient not in {t["To"] for t in twilio.received}
    assert any(e.entity_id == revoker for e in audit(demo_db, "disclosure.refused"))
    assert [r.status for r in outbox_rows(demo_db) if r.patient_id == revoker][-1] == "refused"


def test_a_moved_session_tells_its_patient_once(
    demo_db: Database, at: Callable[[datetime], None], channels: list[str], smtp: SmtpPeer
) -> None:
    at(MONDAY_10AM)
    operator = callers.for_actor(demo_db, "operator")
    with demo_db.read() as session:
        consenting = {
            p.id
            for p in session.scalars(select(Patient))
            if (p.contact or {}).get("channel") == "email"
            and (p.contact or {}).get("consent_reminders")
        }
    from clinic.queries import appointments_between

    with demo_db.read() as session:
        candidates = appointments_between(
            session,
            MONDAY_10AM + timedelta(days=1),
            MONDAY_10AM + timedelta(days=4),
            include_cancelled=False,
        )
    target = next(
        a
        for a in candidates
        if len(a.patients) == 1 and a.patients[0] in consenting and not a.group
    )
    appointments.cancel(demo_db, operator, appointments.Cancel(target.id, reason="room flooded"))
    outbox_job.run(demo_db, MONDAY_10AM)
    notices = [r for r in outbox_rows(demo_db) if r.template == "changed"]
    assert len(notices) == 1 and notices[0].patient_id == target.patients[0]
    assert notices[0].appointment_ids == [target.id] and notices[0].status == "sent"
    mail = smtp.mailbox.messages[-1]
    assert mail["Subject"] == "Your appointment changed" and "is cancelled" in words(mail)


def test_a_discharge_tells_the_patient_once_about_all_their_cancelled_sessions(
    demo_db: Database, at: Callable[[datetime], None], channels: list[str], smtp: SmtpPeer
) -> None:
    at(MONDAY_10AM)
    operator = callers.for_actor(demo_db, "operator")
    patient = "p0008"  # email, opted in to reminders; two sessions ahead
    outcome = patients.discharge(demo_db, operator, patients.Discharge(patient, reason="completed"))
    cancelled = [c["id"] for c in outcome["cancelled"]]
    assert len(cancelled) > 1, "the demo patient has several upcoming sessions"
    outbox_job.run(demo_db, MONDAY_10AM)
    notices = [r for r in outbox_rows(demo_db) if r.template == "changed"]
    assert [(r.patient_id, r.status) for r in notices] == [(patient, "sent")]
    assert sorted(notices[0].appointment_ids) == sorted(cancelled)
    assert len(smtp.mailbox.messages) == 1
    assert words(smtp.mailbox.messages[0]).count("is cancelled") == len(cancelled)


def test_rota_jobs_run_reminders_then_outbox_as_of_a_moment(
    demo_db: Database,
    channels: list[str],
    smtp: SmtpPeer,
    twilio: TwilioPeer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    assert run(["jobs", "list", "--json"]) == 0
    listed = capsys.readouterr().out
    assert '"reminders"' in listed and '"outbox"' in listed
    moment = "2026-11-30T10:00"  # facility time: the demo's Monday, 10:00
    assert run(["jobs", "run", "reminders", "--now", moment, "--json"]) == 0
    assert '"queued"' in capsys.readouterr().out
    assert run(["jobs", "run", "outbox", "--now", moment, "--json"]) == 0
    capsys.readouterr()
    sent = [r for r in outbox_rows(demo_db) if r.status == "sent"]
    assert sent and len(smtp.mailbox.messages) + len(twilio.received) == len(sent)
    assert run(["jobs", "run", "reminders", "--now", moment]) == 0  # the same slot: already ran
    assert len(outbox_rows(demo_db)) == len(
        [r for r in outbox_rows(demo_db) if r.status in {"sent", "refused"}]
    )


def test_a_pushed_afternoon_tells_each_patient_whose_time_changed_once(
    demo_db: Database, at: Callable[[datetime], None], channels: list[str]
) -> None:
    from litestar.testing import TestClient

    from clinic.tokens import create_token
    from integrations.http.app import create_app

    at(MONDAY_10AM)
    with demo_db.session() as session:
        front_desk = {"Authorization": f"Bearer {create_token(session, 's004')}"}
    with TestClient(create_app(demo_db)) as client:
        url = "/api/appointments/a00267/delay"  # the 14:00 session runs 10 minutes late
        shown = client.post(url, json={"minutes": 10}, headers=front_desk).json()
        [push] = [w for w in shown["ways"] if w["way"] == "push"]
        applied = client.post(url, json={"minutes": 10, "way": "push"}, headers=front_desk)
        assert applied.status_code == 200, applied.text
    moved = {m["appointment"] for m in push["moves"] if m["start"][11:16] != "14:00"}
    assert moved == {"a00220", "a00234"}  # the 14:00 session keeps its start: it runs longer
    notices = [r for r in outbox_rows(demo_db) if r.template == "changed"]
    assert notices and {a for r in notices for a in r.appointment_ids} <= moved
    assert len({r.patient_id for r in notices}) == len(notices)  # one notice per patient
    refused = [r.patient_id for r in notices if r.status == "refused"]
    audited = {e.entity_id for e in audit(demo_db, "disclosure.refused")}
    assert set(refused) <= audited
