"""FHIR write-back's cursor: per server, the newest audit event the write-back job has read
(fhir_push_cursor). Which Appointment each appointment is on the server: fhir_link (0014).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fhir_push_cursor",
        sa.Column("server", sa.String(500), primary_key=True),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fhir_push_cursor")
