"""Runs of scheduled jobs, claimed in the database: one row per job and key (the facility-local
date of a daily job, the slot start of a periodic one), so a retry, a second worker or a restart
never runs one key twice, and a crashed run leaves a `started` row a later run may take over.

Kept apart from `clinic.models` because only the job engine uses it; the table is created by the
hand-written migration 0007_job_runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinic.models import Base


class JobRun(Base):
    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # started | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    """Raised by each take-over: a run whose lease was taken cannot record its end."""
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("job", "key", name="uq_job_run_job_key"),
        Index("ix_job_run_started_at", "started_at"),
    )
