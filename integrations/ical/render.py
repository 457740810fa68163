"""A `Feed` as iCalendar text (RFC 5545): events in the facility's zone with its VTIMEZONE, a
stable UID and a SEQUENCE that grows with every change, cancelled sessions as STATUS:CANCELLED."""

from __future__ import annotations

from datetime import UTC

import icalendar

from assistant.usecases.feeds import Feed

PRODID = "-//Rota//Calendar feed//EN"
REFRESH = "PT1H"
"""How often clients are asked to poll (REFRESH-INTERVAL, RFC 7986; X-PUBLISHED-TTL for older
clients)."""


def render(feed: Feed) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", feed.name)
    cal.add("x-wr-calname", feed.name)
    cal.add("x-wr-timezone", feed.tz.key)
    cal.add(
        "refresh-interval", icalendar.vDuration.from_ical(REFRESH), parameters={"VALUE": "DURATION"}
    )
    cal.add("x-published-ttl", REFRESH)
    for e in feed.events:
        event = icalendar.Event()
        event.add("uid", e.uid)
        event.add("sequence", e.sequence)
        event.add("dtstamp", feed.generated.astimezone(UTC))
        event.add("last-modified", e.last_modified.astimezone(UTC))
        event.add("dtstart", e.start.astimezone(feed.tz))
        event.add("dtend", e.end.astimezone(feed.tz))
        event.add("summary", e.summary)
        if e.location:
            event.add("location", e.location)
        if e.description:
            event.add("description", e.description)
        event.add("status", e.status)
        event.add("transp", "TRANSPARENT" if e.status == "CANCELLED" else "OPAQUE")
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
