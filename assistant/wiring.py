"""The composition root every door uses: one place decides which policy guards bookings."""

from __future__ import annotations

from sqlalchemy.orm import Session

from clinic.booking import BookingPolicy, BookingService
from clinic.db import Database
from rules.policy import RulesPolicy


def booking_policy(db: Database) -> BookingPolicy:
    """The facility's rule packs (built-in, plus ROTA_RULES_DIR), checked inside every booking."""
    return RulesPolicy()


def booking_service(db: Database, session: Session | None = None) -> BookingService:
    """The booking service; with `session`, its changes join that unit of work."""
    return BookingService(db, booking_policy(db), session=session)
