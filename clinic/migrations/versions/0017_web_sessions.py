"""Web sign-in: one-time links (sign_in_link) and browser sessions (web_session).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _staff_fk() -> sa.Column:
    return sa.Column(
        "staff_id",
        sa.String(64),
        sa.ForeignKey("staff.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "sign_in_link",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _staff_fk(),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_sign_in_link_staff_id", "sign_in_link", ["staff_id"])
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _staff_fk(),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_web_session_staff_id", "web_session", ["staff_id"])


def downgrade() -> None:
    op.drop_index("ix_web_session_staff_id", table_name="web_session")
    op.drop_table("web_session")
    op.drop_index("ix_sign_in_link_staff_id", table_name="sign_in_link")
    op.drop_table("sign_in_link")
