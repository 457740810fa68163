"""The composition root every door uses: one place decides which policy guards bookings."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from clinic.booking import BookingPolicy, BookingService
from clinic.db import Database
from clinic.facility_file import load_facility
from clinic.timeutil import day_bounds, zone
from rules.policy import RulesPolicy


def booking_policy(db: Database) -> BookingPolicy:
    """The facility's rule packs (built-in, plus ROTA_RULES_DIR), checked inside every booking."""
    return RulesPolicy()


def booking_service(db: Database, session: Session | None = None) -> BookingService:
    """The booking service; with `session`, its changes join that unit of work."""
    return BookingService(db, booking_policy(db), session=session)


def load_facility_file(
    db: Database,
    data: dict[str, Any],
    *,
    replace: bool = False,
    actor: str = "operator",
    source: str | None = None,
    check: bool = False,
    as_of: date | None = None,
) -> dict[str, int]:
    """A facility file, its appointments booked through the same hard checks and rule packs
    as every booking (judged as `actor`); `check` writes nothing. `as_of`: the day the file
    describes as today (a demo's anchor), so its history lies before it; default: now."""
    now = day_bounds(as_of, zone(data["facility"]["timezone"]))[0] if as_of else None
    return load_facility(
        db,
        data,
        replace=replace,
        actor=actor,
        source=source,
        policy=booking_policy(db),
        dry_run=check,
        now=now,
    )
