"""Migration 0019: tokens created before it expire 90 days after their creation, with the
`admin` scope they had in effect; the failure and lockout tables come and go."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import inspect

from clinic.db import Database
from clinic.migrate import alembic_config, upgrade
from clinic.models import ApiToken
from clinic.tokens import create_token


def test_existing_tokens_get_ninety_days_from_their_creation(any_demo_db: Database) -> None:
    engine = any_demo_db.engine
    with any_demo_db.session() as session:
        create_token(session, "s001", scope="read", days=5)
    command.downgrade(alembic_config(engine), "0017")
    tables = set(inspect(engine).get_table_names())
    assert not {"auth_failure", "auth_lockout"} & tables
    assert "expires_at" not in {c["name"] for c in inspect(engine).get_columns("api_token")}
    upgrade(engine)
    assert {"auth_failure", "auth_lockout"} <= set(inspect(engine).get_table_names())
    with any_demo_db.read() as session:
        [row] = session.query(ApiToken).all()
        assert row.expires_at - row.created_at == timedelta(days=90)
        assert row.scope == "admin"
