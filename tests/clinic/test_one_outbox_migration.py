"""Migration 0011 (one outbox) on SQLite and PostgreSQL: the Slack messages still owed move into
`outbox_message` (channel "slack", in order, with what they disclose); sent and failed ones,
whose words were already gone, are dropped; a downgrade puts what is still owed back."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import inspect, select, text

from clinic.db import Database
from clinic.migrate import alembic_config, upgrade
from clinic.outbox_models import OutboxMessage

INSERT = text(
    "INSERT INTO slack_outbox (inbox_key, seq, method, slack_user, channel, payload, audit, "
    "status, attempts, last_error, created_at, sent_at) VALUES (:key, :seq, :method, :user, "
    ":channel, :payload, :audit, :status, :attempts, :error, :at, NULL)"
)
AUDIT = {"recipient": "s006", "channel_type": "im", "patients": ["p0008"], "appointments": ["a1"]}


def _slack_rows(db: Database) -> list[OutboxMessage]:
    with db.read() as session:
        rows = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == "slack")
                .order_by(OutboxMessage.id)
            )
        )
        session.expunge_all()
        return rows


def test_owed_slack_messages_move_into_the_one_outbox_and_back(any_demo_db: Database) -> None:
    engine = any_demo_db.engine
    config = alembic_config(engine)
    command.downgrade(config, "0010")
    assert "slack_outbox" in inspect(engine).get_table_names()
    rows = [
        ("event:Ev1", 0, "chat.postEphemeral", "C1", {"text": "sent to your DM"}, None, "pending"),
        ("event:Ev1", 1, "chat.postMessage", None, {"text": "Laura Fox"}, AUDIT, "pending"),
        ("event:Ev0", 0, "chat.postMessage", None, {}, None, "sent"),
        ("event:Ev0", 1, "chat.postMessage", None, {}, None, "failed"),
    ]
    with engine.begin() as connection:
        for key, seq, method, channel, payload, audit, status in rows:
            connection.execute(
                INSERT,
                {
                    "key": key,
                    "seq": seq,
                    "method": method,
                    "user": "U006",
                    "channel": channel,
                    "payload": json.dumps(payload),
                    "audit": json.dumps(audit) if audit else None,
                    "status": status,
                    "attempts": 2 if status == "pending" else 1,
                    "error": "chat.postMessage: 503 service_unavailable",
                    "at": "2026-11-30 13:00:00+00:00",
                },
            )
    upgrade(engine)
    assert "slack_outbox" not in inspect(engine).get_table_names()
    moved = _slack_rows(any_demo_db)
    assert [(r.key, r.status, r.attempts) for r in moved] == [
        ("event:Ev1:0", "pending", 0),
        ("event:Ev1:1", "pending", 0),
    ]
    first, second = moved
    assert first.recipient == "U006" and first.context == {"payload": {"text": "sent to your DM"}}
    assert first.extra == {
        "request": "event:Ev1",
        "seq": 0,
        "method": "chat.postEphemeral",
        "slack_channel": "C1",
        "audit": None,
    }
    assert second.extra["audit"] == AUDIT and second.appointment_ids == ["a1"]
    assert second.template == "slack_answer" and second.patient_id is None

    command.downgrade(config, "0010")  # what is still owed goes back to Slack's own outbox
    with engine.connect() as connection:
        back = connection.execute(
            text("SELECT inbox_key, seq, method, channel, status FROM slack_outbox ORDER BY id")
        ).all()
        left = connection.execute(
            text("SELECT count(*) FROM outbox_message WHERE channel = 'slack'")
        ).scalar()
    assert [tuple(r) for r in back] == [
        ("event:Ev1", 0, "chat.postEphemeral", "C1", "pending"),
        ("event:Ev1", 1, "chat.postMessage", None, "pending"),
    ]
    assert left == 0
    upgrade(engine)
    assert [r.key for r in _slack_rows(any_demo_db)] == ["event:Ev1:0", "event:Ev1:1"]
