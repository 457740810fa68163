"""The network schema: facilities, people at several sites, travel, grants, transfers.

Before this revision `clinic.network.ensure_network` created these tables from the models; a
database that has them is adopted as it is (each table is created only where missing), so the
first upgrade of a running network only adds the version table. An expand step: nothing is
renamed or dropped, and a program of the previous release keeps working on it.

Revision ID: n0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "n0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "network"


def upgrade() -> None:
    # Every facility schema's exclusion constraints find btree_gist on their search_path
    # (facility_<id>, public): it must live in public, not in the first facility loaded.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public")
    present = set(sa.inspect(op.get_bind()).get_table_names(schema=SCHEMA))
    if "facility" not in present:
        op.create_table(
            "facility",
            sa.Column("id", sa.String(40), primary_key=True),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("schema_name", sa.String(63), nullable=False, unique=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            schema=SCHEMA,
        )
    if "person" not in present:
        op.create_table(
            "person",
            sa.Column("facility_id", sa.String(40), primary_key=True),
            sa.Column("staff_id", sa.String(64), primary_key=True),
            sa.Column("person", sa.String(64), nullable=False),
            schema=SCHEMA,
        )
        op.create_index("ix_network_person_person", "person", ["person"], schema=SCHEMA)
    if "travel" not in present:
        op.create_table(
            "travel",
            sa.Column("first", sa.String(40), primary_key=True),
            sa.Column("second", sa.String(40), primary_key=True),
            sa.Column("minutes", sa.Integer(), nullable=False),
            schema=SCHEMA,
        )
    if "grant" not in present:
        op.create_table(
            "grant",
            sa.Column("facility_id", sa.String(40), primary_key=True),
            sa.Column("staff_id", sa.String(64), primary_key=True),
            sa.Column("role", sa.String(40), primary_key=True),
            sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("granted_by", sa.String(100), nullable=False),
            schema=SCHEMA,
        )
    if "transfer" not in present:
        op.create_table(
            "transfer",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("from_facility", sa.String(40), nullable=False),
            sa.Column("from_patient", sa.String(64), nullable=False),
            sa.Column("to_facility", sa.String(40), nullable=False),
            sa.Column("to_patient", sa.String(64), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("actor", sa.String(100), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            schema=SCHEMA,
        )


def downgrade() -> None:
    for name in ("transfer", "grant", "travel", "person", "facility"):
        op.drop_table(name, schema=SCHEMA)
