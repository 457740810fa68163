"""GET /ical/{token}.ics: a clinician's or a room's calendar feed, for calendar clients.

No bearer token: calendar clients cannot send one, so the secret URL itself is the credential
(`rota ical url`). An unknown or revoked URL is a bare 404, the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from assistant.usecases import feeds
from clinic.db import Database
from integrations.http.problems import PROBLEM
from integrations.ical.render import render

CALENDAR = "text/calendar; charset=utf-8"


@dataclass
class CalendarFeedProblem:
    """RFC 9457 problem details (the 404 says no more than "not found")."""

    type: str
    title: str
    status: int
    detail: str


@get(
    "/ical/{feed:str}",
    sync_to_thread=True,
    tags=["calendar"],
    security=[{}],
    media_type="text/calendar",
    summary="A calendar feed (iCalendar)",
    responses={
        404: ResponseSpec(
            data_container=CalendarFeedProblem,
            media_type=PROBLEM,
            description="No live feed has this URL (unknown or revoked).",
        )
    },
)
def calendar_feed(db: NamedDependency[Database], feed: FromPath[str]) -> Response[bytes]:
    """The feed's events (time, room, session type; patients' initials only where the facility
    allows it) as `text/calendar`. `feed` is the token from `rota ical url`, with `.ics`."""
    body = render(feeds.fetch(db, feed))
    # No copy kept by proxies (a feed may carry patients' initials): every response outside
    # /static is `Cache-Control: no-store` (integrations/http/hardening.py).
    return Response(body, media_type=CALENDAR)
