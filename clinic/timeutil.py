"""Time in one place: UTC storage, facility-local display, weekly templates. DST-safe."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clinic.errors import InvalidInput

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"unknown timezone {name!r}: use an IANA name such as America/New_York"
        ) from exc


def to_utc(value: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime in UTC. A naive value is wall-clock time in `tz`; a time that does
    not exist there (the spring-forward gap) is rejected rather than silently shifted."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    local = value.replace(tzinfo=tz)
    round_trip = local.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != value:
        raise InvalidInput(
            f"{value.isoformat(timespec='minutes')} does not exist in {tz.key} "
            "(clocks skip that hour); pick another time or give an explicit offset"
        )
    return local.astimezone(UTC)


def parse_datetime(text: str, tz: ZoneInfo) -> datetime:
    """ISO 8601 (offset optional, 'Z' allowed) → aware UTC."""
    try:
        return to_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")), tz)
    except (ValueError, OverflowError) as exc:  # OverflowError: year 1 or 9999 moved to UTC
        raise InvalidInput(
            f"{text!r} is not a date-time: use ISO 8601, e.g. 2026-12-01T09:00 or 2026-12-01T09:00-05:00"
        ) from exc


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"{text!r} is not a date: use YYYY-MM-DD") from exc


def local_iso(value: datetime, tz: ZoneInfo) -> str:
    """Facility-local ISO text with its offset, to the minute (what files and people see)."""
    return value.astimezone(tz).isoformat(timespec="minutes")


def parse_hhmm(text: str) -> int:
    """'HH:MM' → minutes after midnight ('24:00' allowed as an end)."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Interval:
    """Minutes after local midnight, half-open [start, end)."""

    start: int
    end: int

    def covers(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end


Weekly = dict[str, list[Interval]]

PARTS_OF_DAY: dict[str, Interval] = {
    "morning": Interval(8 * 60, 12 * 60),
    "afternoon": Interval(12 * 60, 17 * 60),
    "evening": Interval(17 * 60, 21 * 60),
}
"""The request-frame contract's parts of day (morning [08:00, 12:00), afternoon [12:00, 17:00),
evening [17:00, 21:00)): what a person means by "tomorrow morning" and what a preference for
mornings means, the same for the parser and the planner."""


def parse_weekly(template: dict[str, list[str]] | None) -> Weekly | None:
    """{'mon': ['08:00-12:00', ...]} → intervals. None means 'no restriction'."""
    if template is None:
        return None
    weekly: Weekly = {}
    for day, spans in template.items():
        weekly[day] = []
        for span in spans:
            start, end = span.split("-")
            weekly[day].append(Interval(parse_hhmm(start), parse_hhmm(end)))
    return weekly


def opening_hours(open_days: Iterable[str], open: str, close: str) -> Weekly:
    """A facility's hours as a weekly template: `open`-`close` on each of its open days."""
    return {day: [Interval(parse_hhmm(open), parse_hhmm(close))] for day in open_days}


Span = Interval | tuple[int, int]
WeeklySpans = Mapping[str, Sequence[Span]]


def _bounds(span: Span) -> tuple[int, int]:
    return (span.start, span.end) if isinstance(span, Interval) else span


def intersect_weekly(a: WeeklySpans, b: WeeklySpans) -> dict[str, tuple[tuple[int, int], ...]]:
    """The times two weekly templates share, per weekday (a weekday with none is left out)."""
    out: dict[str, tuple[tuple[int, int], ...]] = {}
    for day in set(a) & set(b):
        spans = [
            (max(s1, s2), min(e1, e2))
            for s1, e1 in map(_bounds, a[day])
            for s2, e2 in map(_bounds, b[day])
            if max(s1, s2) < min(e1, e2)
        ]
        if spans:
            out[day] = tuple(sorted(spans))
    return out


def at_local(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The UTC instant `minutes` after local midnight of `day` on the wall clock (24:00 is the
    next midnight)."""
    if minutes >= 24 * 60:
        return local_midnight(day + timedelta(days=minutes // (24 * 60)), tz) + timedelta(
            minutes=minutes % (24 * 60)
        )
    base = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
    return base.astimezone(UTC)


def weekly_spans(
    weekly: WeeklySpans,
    days: Iterable[date],
    tz: ZoneInfo,
) -> list[tuple[datetime, datetime]]:
    """A weekly template laid over real days: every interval of each day's weekday as a UTC
    [start, end), DST-safe. The one expansion of weekly hours into time."""
    out: list[tuple[datetime, datetime]] = []
    for day in days:
        for span in weekly.get(WEEKDAYS[day.weekday()], ()):
            start, end = _bounds(span)
            out.append((at_local(day, start, tz), at_local(day, end, tz)))
    return out


def local_day_and_minutes(value: datetime, tz: ZoneInfo) -> tuple[date, str, int]:
    local = value.astimezone(tz)
    return local.date(), WEEKDAYS[local.weekday()], local.hour * 60 + local.minute


def within_weekly(weekly: Weekly | None, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    """True when [start, end) falls inside one interval of the weekly template on its local day."""
    if weekly is None:
        return True
    day, weekday, start_min = local_day_and_minutes(start, tz)
    end_day, _, end_min = local_day_and_minutes(end, tz)
    if end_day != day:
        if end_day == day + timedelta(days=1) and end_min == 0:
            end_min = 24 * 60
        else:
            return False
    return any(iv.covers(start_min, end_min) for iv in weekly.get(weekday, []))


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """UTC instant of local midnight of `day` (DST-safe: midnight exists in every IANA zone we support)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a local calendar day; 23 or 25 hours long on DST days."""
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)


def week_bounds(moment: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local ISO week (Monday to Monday) holding `moment`."""
    day = moment.astimezone(tz).date()
    monday = day - timedelta(days=day.weekday())
    return local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)


_clock: Callable[[], datetime] | None = None
"""When set (`use_clock`), what `now_utc` answers: a test's fixed day, a replay's `--now`."""


def now_utc() -> datetime:
    """Now, in UTC: the system clock, or the clock set with `use_clock`."""
    return _clock() if _clock is not None else datetime.now(UTC)


def use_clock(clock: Callable[[], datetime] | None) -> None:
    """Make `now_utc` (and so the booking service's checks) answer `clock`; None: the system's."""
    global _clock
    _clock = clock


BUSINESS_WEEKDAYS = 5
"""Monday to Friday: payers count business days that way (AUTH-ENDING, reports)."""


def business_days_between(first: date, last: date) -> int:
    """Mon-Fri days in (first, last]: 0 when `last` is not after `first`."""
    if last <= first:
        return 0
    full, rest = divmod((last - first).days, 7)
    count = full * BUSINESS_WEEKDAYS
    for i in range(1, rest + 1):
        if (first + timedelta(days=full * 7 + i)).weekday() < BUSINESS_WEEKDAYS:
            count += 1
    return count
