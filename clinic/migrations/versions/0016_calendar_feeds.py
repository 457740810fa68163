"""Calendar feeds (calendar_feed: kind, subject, token hash, created, revoked) and the
facility's setting for patient initials in them (facility.calendar_patient_initials).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('staff', 'room')", name="ck_calendar_feed_kind"),
    )
    op.create_index("ix_calendar_feed_subject_id", "calendar_feed", ["subject_id"])
    with op.batch_alter_table("facility") as batch:
        batch.add_column(
            sa.Column(
                "calendar_patient_initials",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("facility") as batch:
        batch.drop_column("calendar_patient_initials")
    op.drop_index("ix_calendar_feed_subject_id", table_name="calendar_feed")
    op.drop_table("calendar_feed")
