"""One outbox: Slack's messages become rows of `outbox_message` (channel "slack").

The Slack messages still owed move over, each under the idempotency key `<request>:<seq>`, with
the Web API method, the Slack channel and what it discloses in the new `extra` column and its
Block Kit payload in `context`. Sent and failed `slack_outbox` rows are dropped, not moved: their
words were already emptied (a failed one could never be sent again, so there is nothing for a
person to retry), and what a sent one disclosed is in the audit log already (`slack.message`,
written when it was sent), which this migration does not touch. Moving them would only fill
`rota outbox list` with rows that can neither be sent nor retried.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_outbox = sa.table(
    "outbox_message",
    sa.column("id", sa.Integer()),
    sa.column("key", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("recipient", sa.String()),
    sa.column("patient_id", sa.String()),
    sa.column("template", sa.String()),
    sa.column("context", sa.JSON()),
    sa.column("appointment_ids", sa.JSON()),
    sa.column("status", sa.String()),
    sa.column("attempts", sa.Integer()),
    sa.column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.column("last_error", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("sent_at", sa.DateTime(timezone=True)),
    sa.column("extra", sa.JSON()),
)


def _slack_table() -> sa.Table:
    return sa.Table(
        "slack_outbox",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inbox_key", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("slack_user", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("audit", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def upgrade() -> None:
    op.add_column("outbox_message", sa.Column("extra", sa.JSON(), nullable=True))
    slack = _slack_table()
    bind = op.get_bind()
    now = datetime.now(UTC)
    owed = bind.execute(
        sa.select(slack).where(slack.c.status == "pending").order_by(slack.c.id)
    ).all()
    for r in owed:
        audit = r.audit or None
        bind.execute(
            _outbox.insert().values(
                key=f"{r.inbox_key}:{r.seq}",
                channel="slack",
                recipient=r.slack_user or "",
                patient_id=None,
                template="slack_job" if r.inbox_key.startswith("job:") else "slack_answer",
                context={"payload": r.payload or {}},
                appointment_ids=list((audit or {}).get("appointments") or []),
                status="pending",
                attempts=0,
                next_attempt_at=now,
                last_error=r.last_error,
                created_at=r.created_at,
                sent_at=None,
                extra={
                    "request": r.inbox_key,
                    "seq": r.seq,
                    "method": r.method,
                    "slack_channel": r.channel,
                    "audit": audit,
                },
            )
        )
    op.drop_index("ix_slack_outbox_status", table_name="slack_outbox")
    op.drop_index("ix_slack_outbox_inbox_key", table_name="slack_outbox")
    op.drop_table("slack_outbox")


def downgrade() -> None:
    slack = _slack_table()
    slack.create(op.get_bind())
    op.create_index("ix_slack_outbox_inbox_key", "slack_outbox", ["inbox_key"])
    op.create_index("ix_slack_outbox_status", "slack_outbox", ["status"])
    bind = op.get_bind()
    owed = bind.execute(
        sa.select(_outbox)
        .where(_outbox.c.channel == "slack", _outbox.c.status == "pending")
        .order_by(_outbox.c.id)
    ).all()
    for r in owed:  # what is still owed goes back to Slack's own outbox; the rest stays audited
        extra = r.extra or {}
        bind.execute(
            slack.insert().values(
                inbox_key=extra.get("request") or r.key,
                seq=int(extra.get("seq") or 0),
                method=extra.get("method") or "chat.postMessage",
                slack_user=r.recipient or None,
                channel=extra.get("slack_channel"),
                payload=(r.context or {}).get("payload") or {},
                audit=extra.get("audit"),
                status="pending",
                attempts=0,
                last_error=r.last_error,
                created_at=r.created_at,
                sent_at=None,
            )
        )
    bind.execute(sa.delete(_outbox).where(_outbox.c.channel == "slack"))
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("extra")
