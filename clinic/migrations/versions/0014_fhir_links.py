"""FHIR import bookkeeping: fhir_link (Rota id ↔ server resource, last version seen, digest of
the record as imported) and fhir_cursor (per server and resource type: last lastUpdated
imported, the page to resume at).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fhir_link",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("server", sa.String(500), nullable=False),
        sa.Column("resource_type", sa.String(40), nullable=False),
        sa.Column("fhir_id", sa.String(64), nullable=False),
        sa.Column("rota_id", sa.String(64), nullable=False),
        sa.Column("version_id", sa.String(64), nullable=True),
        sa.Column("last_updated", sa.String(40), nullable=True),
        sa.Column("record_digest", sa.String(64), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("server", "resource_type", "fhir_id", name="uq_fhir_link_remote"),
    )
    op.create_index("ix_fhir_link_rota", "fhir_link", ["server", "resource_type", "rota_id"])
    op.create_table(
        "fhir_cursor",
        sa.Column("server", sa.String(500), primary_key=True),
        sa.Column("resource_type", sa.String(40), primary_key=True),
        sa.Column("last_updated", sa.String(40), nullable=True),
        sa.Column("next_url", sa.String(2000), nullable=True),
        sa.Column("high_water", sa.String(40), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_index("ix_fhir_link_rota", table_name="fhir_link")
    op.drop_table("fhir_link")
    op.drop_table("fhir_cursor")
