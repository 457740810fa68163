"""Tokens that end: api_token.expires_at and .scope, web_session.scope, and the failed sign-ins
and lockouts (auth_failure, auth_lockout) every server process shares.

Tokens created before this revision keep working for 90 days from their creation, with the
`admin` scope they had in effect (everything their holder's roles allow).

Revision ID: 0019
Revises: 0017
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

EXISTING_TOKEN_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("scope", sa.String(16), nullable=False, server_default="admin"))
    tokens = sa.table(
        "api_token",
        sa.column("id", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("expires_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    # In Python, not SQL: date arithmetic is spelt differently by SQLite and PostgreSQL.
    for token_id, created_at in connection.execute(sa.select(tokens.c.id, tokens.c.created_at)):
        connection.execute(
            tokens.update()
            .where(tokens.c.id == token_id)
            .values(expires_at=created_at + timedelta(days=EXISTING_TOKEN_DAYS))
        )
    with op.batch_alter_table("api_token") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    with op.batch_alter_table("web_session") as batch:
        batch.add_column(sa.Column("scope", sa.String(16), nullable=False, server_default="admin"))
    op.create_table(
        "auth_failure",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("door", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("prefix_digest", sa.String(16), nullable=False),
    )
    op.create_index("ix_auth_failure_client_at", "auth_failure", ["client", "at"])
    op.create_table(
        "auth_lockout",
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("auth_lockout")
    op.drop_index("ix_auth_failure_client_at", table_name="auth_failure")
    op.drop_table("auth_failure")
    with op.batch_alter_table("web_session") as batch:
        batch.drop_column("scope")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("scope")
        batch.drop_column("expires_at")
