"""What Rota remembers of FHIR servers it imports from: which server resource each Rota record
came from (and the version it last saw, and what the record said then), and how far each
incremental sync got.

Kept apart from `clinic.models` like the outbox's bookkeeping; the tables are created by the
hand-written migration 0014_fhir_links. `record_digest` is the hash of the Rota record as the
last import wrote it: a record whose digest differs now was changed in Rota since, so a newer
server version is a conflict to report, not something to overwrite.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinic.models import Base


class FhirLink(Base):
    """One Rota record ↔ one resource on one FHIR server."""

    __tablename__ = "fhir_link"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    server: Mapped[str] = mapped_column(String(500))
    resource_type: Mapped[str] = mapped_column(String(40))
    fhir_id: Mapped[str] = mapped_column(String(64))
    rota_id: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[str | None] = mapped_column(String(64))
    last_updated: Mapped[str | None] = mapped_column(String(40))
    """meta.lastUpdated as the server wrote it (an instant; kept as text, compared as given)."""
    record_digest: Mapped[str | None] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(default=False)
    synced_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("server", "resource_type", "fhir_id", name="uq_fhir_link_remote"),
        Index("ix_fhir_link_rota", "server", "resource_type", "rota_id"),
    )


class FhirCursor(Base):
    """How far the incremental sync of one resource type from one server got: the newest
    meta.lastUpdated fully imported (the next run asks for `_lastUpdated=gt` it), and the
    `next` page still to read when a run stopped part-way (the next run resumes there)."""

    __tablename__ = "fhir_cursor"

    server: Mapped[str] = mapped_column(String(500), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_updated: Mapped[str | None] = mapped_column(String(40))
    next_url: Mapped[str | None] = mapped_column(String(2000))
    high_water: Mapped[str | None] = mapped_column(String(40))
    """The newest meta.lastUpdated of the run in progress (becomes `last_updated` at its end)."""
    pages: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]
