"""Recurring series (`series`, `series_occurrence`) and facility-wide closures (holidays).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "facility_closure",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
    )
    op.create_index("ix_facility_closure_start", "facility_closure", ["start"])
    op.create_table(
        "series",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("patient_id", sa.String(64), sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("staff_id", sa.String(64), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column(
            "session_type_id", sa.String(64), sa.ForeignKey("session_type.id"), nullable=False
        ),
        sa.Column("weekday", sa.String(3), nullable=False),
        sa.Column("time", sa.String(5), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.String(64), sa.ForeignKey("room.id"), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_series_patient_id", "series", ["patient_id"])
    op.create_index("ix_series_staff_id", "series", ["staff_id"])
    op.create_table(
        "series_occurrence",
        sa.Column(
            "series_id",
            sa.String(32),
            sa.ForeignKey("series.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column(
            "appointment_id",
            sa.String(64),
            sa.ForeignKey("appointment.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
    )


def downgrade() -> None:
    op.drop_table("series_occurrence")
    op.drop_table("series")
    op.drop_table("facility_closure")
