"""The composition root every door uses: one place decides which policy guards bookings."""

from __future__ import annotations

from clinic.booking import AllowAll, BookingPolicy, BookingService
from clinic.db import Database


def booking_policy(db: Database) -> BookingPolicy:
    """The facility's rules; AllowAll until the rules layer is wired in (hard checks still apply)."""
    return AllowAll()


def booking_service(db: Database) -> BookingService:
    return BookingService(db, booking_policy(db))
