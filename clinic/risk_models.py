"""Stored no-show models: one row per training, newest version in force.

Kept apart from `clinic.models` because only the no-show model (assistant/no_show.py) reads and
writes it; the table is created by the hand-written migration 0013_risk_models. The fitted model
is plain JSON (`params`: a logistic regression's intercept and named coefficients, and the beta
prior of the per-patient rate), never pickled bytes: loading a row can run no code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clinic.models import Base


class RiskModel(Base):
    __tablename__ = "risk_model"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # e.g. logistic-v1
    trained_at: Mapped[datetime]
    train_from: Mapped[datetime]
    """The first session the stored fit saw."""
    train_until: Mapped[datetime]
    """The end (exclusive) of the history it saw; the held-out weeks end here too."""
    held_out_from: Mapped[datetime]
    """Where the scored split began: metrics come from a fit on [train_from, held_out_from)
    scored on [held_out_from, train_until); the stored fit then saw the whole window."""
    n: Mapped[int] = mapped_column(Integer)
    """Sessions (patient outcomes) the stored fit was trained on."""
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
