"""One unit ledger: how many of a payer authorization's units are used, booked and left (AUTH-03).

Units consumed = units documented before Rota (the facility file's `used`) + past sessions whose
outcome uses a unit (the authorization pack's `units_used_by`: attended by default; a payer that
charges no-shows or late cancellations lists them too) + sessions booked but not yet held. The
booking rules (AUTH-UNITS, AUTH-LOW-UNITS, AUTH-WEEK-CAP), the solver's unit budgets and the
compliance report all read this one function, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from clinic.models import SCHEDULED_STATUSES
from rules.model import AppointmentFacts, AuthorizationFacts

DEFAULT_USED_BY = ("attended",)


@dataclass(frozen=True)
class Units:
    authorized: int
    documented: int
    """Documented before Rota (the facility file's `used`); belongs to no particular week."""
    held: int
    """Past sessions whose outcome uses a unit."""
    booked: int
    """Booked but not yet held."""

    @property
    def used(self) -> int:
        return self.documented + self.held

    @property
    def left(self) -> int:
        return self.authorized - self.used - self.booked


def used_by(tables: Mapping[str, Any]) -> frozenset[str]:
    """The session outcomes that use a unit, from the packs (`units_used_by`)."""
    return frozenset(str(s) for s in tables.get("units_used_by", DEFAULT_USED_BY))


def ledger(
    auth: AuthorizationFacts,
    appointments: Iterable[AppointmentFacts],
    tz: tzinfo,
    tables: Mapping[str, Any],
    *,
    days: tuple[date, date] | None = None,
) -> Units:
    """The authorization's units, counting the patient's `appointments` (any status; the ones
    of other patients or other session types are skipped). With `days` (first, last), only
    sessions on those local days count and the documented units are left out: a week's use."""
    lo, hi = auth.start, auth.end
    if days is not None:
        lo, hi = max(lo, days[0]), min(hi, days[1])
    uses = used_by(tables)
    held = booked = 0
    for a in appointments:
        if a.session_type not in auth.session_types:
            continue
        if not lo <= a.start.astimezone(tz).date() <= hi:
            continue
        if a.status in SCHEDULED_STATUSES:
            booked += 1
        elif a.status in uses:
            held += 1
    documented = auth.used if days is None else 0
    return Units(auth.units, documented, held, booked)
