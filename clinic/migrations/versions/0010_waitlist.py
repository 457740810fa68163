"""The waitlist: entries (who waits for what, when) and the offers of freed slots.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "patient_id",
            sa.String(64),
            sa.ForeignKey("patient.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "session_type_id", sa.String(64), sa.ForeignKey("session_type.id"), nullable=False
        ),
        sa.Column("staff_id", sa.String(64), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("days", sa.JSON(), nullable=True),
        sa.Column("time_from", sa.String(5), nullable=True),
        sa.Column("time_until", sa.String(5), nullable=True),
        sa.Column("earliest", sa.Date(), nullable=True),
        sa.Column("latest", sa.Date(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("appointment_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_waitlist_entry_patient_id", "waitlist_entry", ["patient_id"])
    op.create_index(
        "ix_waitlist_entry_status_type", "waitlist_entry", ["status", "session_type_id"]
    )
    op.create_table(
        "waitlist_offer",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "entry_id",
            sa.Integer(),
            sa.ForeignKey("waitlist_entry.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("slot_key", sa.String(200), nullable=False),
        sa.Column("session_type_id", sa.String(64), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("room_id", sa.String(64), nullable=True),
        sa.Column("freed_by", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("offered_by", sa.String(100), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("appointment_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_waitlist_offer_entry_id", "waitlist_offer", ["entry_id"])
    op.create_index("ix_waitlist_offer_patient_id", "waitlist_offer", ["patient_id"])
    op.create_index("ix_waitlist_offer_slot_key", "waitlist_offer", ["slot_key"])
    op.create_index("ix_waitlist_offer_status_expires", "waitlist_offer", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_table("waitlist_offer")
    op.drop_table("waitlist_entry")
