"""Each participant's own outcome (`appointment_patient.status`): in a group session one member
may be a no-show or cancel late while the others attend.

Existing rows take their appointment's status (until now the session's status was everyone's).
Plain ADD COLUMN, not a batch rebuild: on SQLite a rebuild would drop the overlap triggers.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "appointment_patient",
        sa.Column("status", sa.String(20), nullable=False, server_default="booked"),
    )
    op.execute(
        "UPDATE appointment_patient SET status = (SELECT appointment.status FROM appointment "
        "WHERE appointment.id = appointment_patient.appointment_id)"
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+ and PostgreSQL), for the same reason as above.
    op.execute("ALTER TABLE appointment_patient DROP COLUMN status")
