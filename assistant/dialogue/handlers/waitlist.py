"""The waitlist from the conversation: "put Jamie on the waitlist for a Tuesday morning with
Dana", "who is on the waitlist", and "accept offer 12" (the answer to a waitlist offer's DM).

Adding is done at once (taking someone off is as easy: `rota waitlist withdraw`); each reply
says what was understood. The words of these replies live here, beside the handler."""

from __future__ import annotations

from datetime import date

from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame
from assistant.dialogue.turn import Turn
from assistant.usecases import waitlist

DEFAULT_TYPE = "individual"
_DAY_NAMES = {
    "mon": "Mondays",
    "tue": "Tuesdays",
    "wed": "Wednesdays",
    "thu": "Thursdays",
    "fri": "Fridays",
    "sat": "Saturdays",
    "sun": "Sundays",
}


def add(turn: Turn, frame: Frame) -> Reply:
    """Put the named patient on the waitlist with the wish the words gave."""
    names = turn.names()
    mention = frame.get("patient") or {}
    patient = mention.get("id")
    if not patient:
        candidates = mention.get("candidates") or []
        if candidates:
            return turn.reply(
                f"Which {mention.get('text')}: {' or '.join(names(c) for c in candidates)}? "
                "Say their full name."
            )
        return turn.reply("Who should I put on the waitlist? Say the patient's full name.")
    staff_mention = frame.get("staff") or {}
    if staff_mention.get("text") and not staff_mention.get("id"):
        return turn.reply(
            f"I don't know a clinician called {staff_mention['text']}; say their full name, or "
            "leave the clinician out to take anyone who can see them."
        )
    wish = frame.get("waitlist") or {}
    entry = waitlist.add(
        turn.db,
        turn.caller,
        waitlist.AddEntry(
            patient=patient,
            session_type=frame.get("session_type") or DEFAULT_TYPE,
            staff=staff_mention.get("id"),
            days=tuple(wish.get("days") or ()),
            time_from=wish.get("time_from"),
            time_until=wish.get("time_until"),
            earliest=_date(wish.get("earliest")),
            latest=_date(wish.get("latest")),
        ),
    )
    return turn.reply(
        f"{names(patient)} is on the waitlist for {names.kind(entry.session_type)}"
        f"{_window(entry, names)} (entry {entry.id}). When such a time frees up I will offer "
        "it to the waiting patients in rank order; the first to accept gets it."
    )


def who(turn: Turn, frame: Frame) -> Reply:
    """Who is waiting (and who has an offer open), oldest first."""
    names = turn.names()
    rows = waitlist.entries(turn.db, turn.caller, waitlist.ListEntries())
    if not rows:
        return turn.reply("Nobody is on the waitlist.")
    lines = [f"{len(rows)} on the waitlist (longest waiting first):"]
    for r in rows:
        offered = " (offered a time)" if r.status == "offered" else ""
        lines.append(
            f"- {names(r.patient)}: {_kind(r, names)}{_window(r, names)}, "
            f"since {r.created_at.astimezone(turn.tz):%a %d %b}{offered}"
        )
    return turn.reply("\n".join(lines))


def accept(turn: Turn, offer_id: int) -> Reply:
    """ "accept offer 12": book the offered time for its patient (first to accept wins)."""
    names = turn.names()
    offer = waitlist.accept(turn.db, turn.caller, waitlist.AcceptOffer(offer_id))
    return turn.reply(
        f"Booked {names(offer.patient)} with {names(offer.staff)} on "
        f"{offer.start.astimezone(turn.tz):%a %d %b at %H:%M}; the other patients offered "
        "that time are told it was taken."
    )


def _kind(entry: waitlist.EntryView, names: wording.Names) -> str:
    """What the entry waits for, when the caller may be told (else "a session")."""
    return names.kind(entry.session_type) if entry.session_type else "a session"


def _window(entry: waitlist.EntryView, names: wording.Names) -> str:
    parts = []
    if entry.staff:
        parts.append(f"with {names(entry.staff)}")
    if entry.days:
        parts.append("on " + " and ".join(_DAY_NAMES.get(d, d) for d in entry.days))
    if entry.time_from or entry.time_until:
        parts.append(f"{entry.time_from or 'opening'}-{entry.time_until or 'closing'}")
    if entry.earliest and entry.earliest == entry.latest:
        parts.append(f"on {entry.earliest:%a %d %b}")
    elif entry.earliest or entry.latest:
        parts.append(f"between {entry.earliest or 'now'} and {entry.latest or 'any time after'}")
    return (", " + ", ".join(parts)) if parts else ", any time"


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
