"""How far FHIR write-back has read the audit log for appointment changes, per server (which
Appointment on the server each Rota appointment is lives in `fhir_link`, shared with the
import: clinic/fhir_models.py).

Kept apart from `clinic.models` like the outbox's bookkeeping; the table is created by the
hand-written migration 0015_fhir_writeback.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from clinic.models import Base


class FhirPushCursor(Base):
    """The newest audit event (seq) the write-back job has read for one server: appointment
    changes after it are still to be queued."""

    __tablename__ = "fhir_push_cursor"

    server: Mapped[str] = mapped_column(String(500), primary_key=True)
    audit_seq: Mapped[int]
    updated_at: Mapped[datetime]
