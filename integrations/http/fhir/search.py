"""Search parameters the facade understands, and the searchset Bundle it answers with.

Dates follow FHIR's prefixes (eq, ne is not supported, lt, le, gt, ge; no prefix is eq) on a
date (the whole local day) or a date-time (facility-local without an offset); a reference is
`Type/id` or the bare id; a token is `code` or `system|code`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from litestar.exceptions import ClientException

PREFIXES = ("eq", "lt", "le", "gt", "ge")
DATE_PATTERN = (
    r"^(eq|lt|le|gt|ge)?(19|2[0-9])[0-9]{2}-"
    r"((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-9])|(0[13-9]|1[0-2])-30|(0[13578]|1[02])-31)"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?"
    r"(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])?)?$"
)
"""A FHIR date search value as the OpenAPI document declares it: years 1900 to 2999 (a
scheduler's), days that some year has (29 February only in a leap year, as the parser says)."""
ID_PATTERN = r"^[A-Za-z0-9\-.]{1,64}$"
"""A FHIR logical id (R4 datatypes: id)."""


class BadSearch(ClientException):
    """A search parameter the facade cannot read: 400, as FHIR's search says."""


DEFAULT_COUNT = 100
MAX_COUNT = 1000


@dataclass(frozen=True)
class Bound:
    """[start, end) from a list of prefixed date values (either end None: open; `empty`: the
    values leave no time between them, so nothing matches)."""

    start: datetime | None = None
    end: datetime | None = None
    empty: bool = False


def date_bound(name: str, values: list[str], tz: ZoneInfo) -> Bound:
    """The [start, end) the values allow together (`start=ge2026-12-01&start=lt2026-12-08`)."""
    lo: datetime | None = None
    hi: datetime | None = None
    for raw in values:
        prefix, text = (raw[:2], raw[2:]) if raw[:2] in PREFIXES else ("eq", raw)
        first, after = _span(name, text, tz)
        if prefix in ("eq", "ge"):
            lo = first if lo is None else max(lo, first)
        if prefix == "gt":
            lo = after if lo is None else max(lo, after)
        if prefix in ("eq", "le"):
            hi = after if hi is None else min(hi, after)
        if prefix == "lt":
            hi = first if hi is None else min(hi, first)
    return Bound(lo, hi, empty=lo is not None and hi is not None and hi <= lo)


def _span(name: str, text: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A date is its whole local day; a date-time is the instant (to the second)."""
    if not re.match(DATE_PATTERN, text):
        raise BadSearch(
            f"{name}: {text!r} is not a FHIR date or dateTime between 1900 and 2999 (with an "
            f"optional prefix {', '.join(PREFIXES)})"
        )
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            first = datetime.combine(day, datetime.min.time(), tz)
            return first, datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadSearch(
            f"{name}: {text!r} is not a FHIR date or dateTime (with an optional prefix "
            f"{', '.join(PREFIXES)})"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment, moment + timedelta(seconds=1)


def reference_id(name: str, value: str, resource_type: str) -> str:
    """The logical id a reference parameter names (`Practitioner/c001` or `c001`)."""
    text = value.strip().rstrip("/")
    if "/" in text:
        kind, _, logical = text.rpartition("/")
        if kind.rsplit("/", 1)[-1] != resource_type or not logical:
            raise BadSearch(f"{name}: {value!r} is not a reference to a {resource_type}")
        return logical
    if not text:
        raise BadSearch(f"{name}: empty reference")
    return text


def token_codes(values: list[str]) -> list[str]:
    """The codes of token values (`code` or `system|code`), comma lists allowed."""
    return [v.rpartition("|")[2] for raw in values for v in raw.split(",") if v.rpartition("|")[2]]


def count(value: int | None) -> int:
    if value is None:
        return DEFAULT_COUNT
    if not 0 <= value <= MAX_COUNT:
        raise BadSearch(f"_count: between 0 and {MAX_COUNT}")
    return value


def skip(value: int | None) -> int:
    if value is not None and value < 0:
        raise BadSearch("_offset: at least 0")
    return value or 0


def page_url(url: str, offset: int) -> str:
    """The same search from another match on (`_offset`)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "_offset"]
    if offset:
        query.append(("_offset", str(offset)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def searchset(
    resources: list[dict[str, Any]],
    base: str,
    self_url: str,
    limit: int,
    warnings: list[str] | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    """A searchset Bundle of `limit` matches from `offset` on, with `next` and `previous`
    links to the other pages; `total` counts them all (no `entry` when none is on this page:
    FHIR forbids an empty array). `warnings` travel as an OperationOutcome entry (search mode
    `outcome`), as FHIR's search says."""
    links = [{"relation": "self", "url": self_url}]
    if offset + limit < len(resources) and limit > 0:
        links.append({"relation": "next", "url": page_url(self_url, offset + limit)})
    if offset > 0 and limit > 0:
        links.append({"relation": "previous", "url": page_url(self_url, max(0, offset - limit))})
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources[offset : offset + limit]
        ],
    }
    if warnings:
        issues = [{"severity": "warning", "code": "too-costly", "diagnostics": w} for w in warnings]
        bundle["entry"].append(
            {
                "resource": {"resourceType": "OperationOutcome", "issue": issues},
                "search": {"mode": "outcome"},
            }
        )
    if not bundle["entry"]:
        del bundle["entry"]
    return bundle
