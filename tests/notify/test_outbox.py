"""The outbox itself: retries with backoff, the dead-letter list a person sees and retries
(`rota outbox list --dead`, `rota outbox retry ID`), patients' SMS replies through a signed
Twilio webhook, and a clear refusal of a bad channel configuration."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from assistant import outbox
from assistant.jobs import reminders
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import AuditEvent, Patient
from clinic.outbox_models import OutboxMessage
from clinic.tokens import create_token
from integrations import notify
from integrations.cli.main import run
from integrations.http.app import create_app
from integrations.notify.email import SmtpSender
from tests.notify.conftest import MONDAY_10AM
from tests.notify.peers import SmtpPeer, TwilioPeer, free_port

CASE_MANAGER, THERAPIST = "s006", "c004"


def message(db: Database, key: str) -> OutboxMessage:
    with db.read() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        assert row is not None
        session.expunge(row)
        return row


def queue_one(db: Database, patient: str, now: datetime) -> str:
    with db.session() as session:
        row = session.get(Patient, patient)
        assert row is not None
        contact = row.contact or {}
        channel = contact["channel"]
        outbox.enqueue(
            session,
            channel=channel,
            recipient=contact["phone" if channel == "sms" else "email"],
            template="reminder",
            context={"when": "Tue 01 Dec at 10:00"},
            key=f"test:{patient}",
            appointment_ids=["a00001"],
            patient=patient,
            now=now,
        )
    return f"test:{patient}"


def test_a_failing_channel_is_retried_with_backoff_then_dead_and_a_person_retries_it(
    demo_db: Database,
    set_now: Callable[[datetime], None],
    smtp: SmtpPeer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_now(MONDAY_10AM)
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    key = queue_one(demo_db, "p0006", MONDAY_10AM)  # email, consents to reminders
    with demo_db.session() as session:  # the same key again: not queued twice
        assert not outbox.enqueue(
            session,
            channel="email",
            recipient="x@example.org",
            template="reminder",
            context={},
            key=key,
            now=MONDAY_10AM,
        )
    down = {"email": SmtpSender.from_url(f"smtp://127.0.0.1:{free_port()}", "a@example.org")}
    now, waits = MONDAY_10AM, []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        assert outbox.drain(demo_db, now - timedelta(seconds=1), down) == {
            "sent": 0,
            "failed": 0,
            "dead": 0,
        }  # not due before its time
        counts = outbox.drain(demo_db, now, down)
        row = message(demo_db, key)
        assert row.attempts == attempt and "ConnectionRefused" in (row.last_error or "")
        if attempt < outbox.MAX_ATTEMPTS:
            assert counts["failed"] == 1 and row.status == "pending"
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at
        else:
            assert counts["dead"] == 1 and row.status == "dead"
    assert waits == [timedelta(seconds=30 * 2**i) for i in range(outbox.MAX_ATTEMPTS - 1)]

    assert run(["outbox", "list", "--dead", "--json"]) == 0
    dead = json.loads(capsys.readouterr().out)
    assert [d["key"] for d in dead] == [key] and dead[0]["recipient"].startswith("j***@")
    assert run(["outbox", "list", "--dead"]) == 0
    assert f"#{dead[0]['id']} dead" in capsys.readouterr().out
    assert run(["outbox", "retry", str(dead[0]["id"]), "--actor", THERAPIST]) == 3
    assert "therapist role may not see the messages owed" in capsys.readouterr().err
    assert run(["outbox", "retry", str(dead[0]["id"])]) == 0
    assert "queued again" in capsys.readouterr().out
    assert run(["outbox", "retry", str(dead[0]["id"])]) != 0  # pending now, not dead
    assert "only a dead message can be retried" in capsys.readouterr().err

    up = notify.from_env({"ROTA_SMTP_URL": smtp.url, "ROTA_MAIL_FROM": "a@example.org"})
    assert outbox.drain(demo_db, now, up)["sent"] == 1
    assert len(smtp.mailbox.messages) == 1 and message(demo_db, key).status == "sent"
    with demo_db.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions[-3:] == ["outbox.dead", "outbox.retry", "outbox.sent"]


def test_a_bad_channel_configuration_names_the_setting() -> None:
    with pytest.raises(InvalidInput) as bad_url:
        notify.from_env({"ROTA_SMTP_URL": "http://mail:25", "ROTA_MAIL_FROM": "a@example.org"})
    assert bad_url.value.problems == ["$.ROTA_SMTP_URL: smtp:// or smtps:// with a host"]
    with pytest.raises(InvalidInput) as no_from:
        notify.from_env({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"})
    assert "ROTA_SMS_FROM" in str(no_from.value)
    sender = SmtpSender.from_url(
        "smtp://us%40er:p%3Ass@mail.example.org:587?starttls=true", "a@b.c"
    )
    assert (sender.user, sender.password, sender.port, sender.starttls) == (
        "us@er",
        "p:ss",
        587,
        True,
    )
    assert notify.from_env({}) == {}


# --- replies -----------------------------------------------------------------------------------


@pytest.fixture()
def client(
    demo_db: Database, twilio: TwilioPeer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    for key, value in twilio.env().items():
        monkeypatch.setenv(key, value)
    with TestClient(create_app(demo_db)) as test_client:
        yield test_client


def signed(client: TestClient, params: dict[str, str], token: str = "secret") -> dict[str, str]:
    url = str(client.base_url).rstrip("/") + "/api/sms/inbound"
    return {
        "X-Twilio-Signature": RequestValidator(token).compute_signature(url, params),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def test_a_patient_confirms_or_asks_for_a_call_back_by_sms_and_the_case_manager_sees_it(
    client: TestClient, demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    set_now(MONDAY_10AM)
    reminders.run(demo_db, MONDAY_10AM)
    with demo_db.read() as session:
        phone = session.get(Patient, "p0003").contact["phone"]  # type: ignore[union-attr]
    confirm = {"From": phone, "Body": " c ", "MessageSid": "SM1", "To": "+15550001111"}
    callback = {"From": phone, "Body": "R please", "MessageSid": "SM2", "To": "+15550001111"}
    forged = client.post("/api/sms/inbound", data=confirm, headers=signed(client, confirm, "nope"))
    assert forged.status_code == 403
    for params in (confirm, confirm, callback):  # Twilio may deliver a webhook twice
        answer = client.post("/api/sms/inbound", data=params, headers=signed(client, params))
        assert answer.status_code == 200 and answer.text.endswith("<Response></Response>")
    with demo_db.session() as session:
        manager = {"Authorization": f"Bearer {create_token(session, CASE_MANAGER)}"}
    replies = client.get("/api/sms/replies", headers=manager)
    assert replies.status_code == 200, replies.text
    body = replies.json()
    assert [(r["patient"], r["answer"]) for r in body] == [
        ("p0003", "callback"),
        ("p0003", "confirm"),
    ]
    assert body[0]["appointments"]  # the patient's next booked session
    assert client.get("/api/sms/replies").status_code == 401
    with demo_db.session() as session:
        therapist = {"Authorization": f"Bearer {create_token(session, THERAPIST)}"}
    assert client.get("/api/sms/replies", headers=therapist).status_code == 403
    with demo_db.read() as session:
        events = list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.reply"))
        )
        assert len(events) == 2 and "Body" not in str(events[0].after)


@pytest.mark.postgres
def test_two_drains_at_once_on_postgresql_send_each_message_once(
    pg_db: Database, smtp: SmtpPeer
) -> None:
    now = MONDAY_10AM
    with pg_db.session() as session:
        for i in range(40):
            outbox.enqueue(
                session,
                channel="email",
                recipient=f"patient{i}@example.org",
                template="reminder",
                context={"when": "Tue 01 Dec at 10:00"},
                key=f"race:{i}",
                now=now,
            )
    up = notify.from_env({"ROTA_SMTP_URL": smtp.url, "ROTA_MAIL_FROM": "a@example.org"})
    results: list[dict[str, int]] = []

    def drain() -> None:
        results.append(outbox.drain(pg_db, now, up, limit=10))
        results.append(outbox.drain(pg_db, now, up, limit=10))

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["sent"] for r in results) == 40
    assert sorted(m["To"] for m in smtp.mailbox.messages) == sorted(
        f"patient{i}@example.org" for i in range(40)
    )
