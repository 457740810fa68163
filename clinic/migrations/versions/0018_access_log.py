"""The access log (access_event): every read of patient information, append-only.

The database rejects UPDATE and DELETE as it does for audit_event (0002): a trigger on
PostgreSQL, two on SQLite.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

GUARD = "access_append_only"


def upgrade() -> None:
    op.create_table(
        "access_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(64), nullable=False),
        sa.Column("door", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('allowed', 'denied', 'break_glass')", name="access_event_outcome"
        ),
    )
    op.create_index("ix_access_event_patient_at", "access_event", ["patient_id", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {GUARD}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{GUARD}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {GUARD} BEFORE UPDATE OR DELETE ON access_event "
            f"FOR EACH ROW EXECUTE FUNCTION {GUARD}()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {GUARD}_{verb.lower()} BEFORE {verb} ON access_event "
            f"BEGIN SELECT RAISE(ABORT, '{GUARD}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {GUARD} ON access_event")
        op.execute(f"DROP FUNCTION IF EXISTS {GUARD}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {GUARD}_update")
        op.execute(f"DROP TRIGGER IF EXISTS {GUARD}_delete")
    op.drop_index("ix_access_event_patient_at", table_name="access_event")
    op.drop_table("access_event")
