"""The composition root every door uses: one place decides which policy guards bookings."""

from __future__ import annotations

from typing import Any

from clinic.booking import BookingPolicy, BookingService
from clinic.db import Database
from clinic.facility_file import load_facility
from rules.policy import RulesPolicy


def booking_policy(db: Database) -> BookingPolicy:
    """The facility's rule packs (built-in, plus ROTA_RULES_DIR), checked inside every booking."""
    return RulesPolicy()


def booking_service(db: Database) -> BookingService:
    return BookingService(db, booking_policy(db))


def load_facility_file(
    db: Database,
    data: dict[str, Any],
    *,
    replace: bool = False,
    actor: str = "operator",
    source: str | None = None,
    check: bool = False,
) -> dict[str, int]:
    """A facility file, its appointments booked through the same hard checks and rule packs
    as every booking (judged as `actor`); `check` writes nothing."""
    return load_facility(
        db,
        data,
        replace=replace,
        actor=actor,
        source=source,
        policy=booking_policy(db),
        dry_run=check,
    )
