"""Session types may need room features (`room_features`, e.g. ['accessible']).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("session_type") as batch:
        batch.add_column(sa.Column("room_features", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("session_type") as batch:
        batch.drop_column("room_features")
