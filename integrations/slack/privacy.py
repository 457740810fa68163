"""PRIV-10 for Slack: what may appear where, and what a message reveals (for the audit log).

Channels get fixed wording only: the same sentence whoever and whatever was asked, so nothing
in a channel confirms that a named person is a patient. Details go to the asker's DM with the
bot, and every message that carries patient information is audited (who, where, which
appointments and patients; never the text).

Before anything is sent, `refusal` asks the disclosure use case (`assistant.disclosure`): this
module only says what a message reveals (which patients it names; for a channel, anything that
could identify one: a name or part of one, an id, a clock time); the consent pack's PRIV rules
decide whether it may go there (PRIV-PUBLIC-CHANNEL, PRIV-ROLE-NEED, PRIV-CHAT-CLINICAL).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.disclosure import Disclose, disclose
from assistant.roster import Roster
from clinic.db import Database
from clinic.errors import RotaError

SENT_TO_DM = "I've sent you the details in a DM."
WORKING_ON_IT = "On it. I'll send you the answer in a DM."
UNKNOWN_USER = (
    "Sorry, I can't help you yet: your Slack account isn't linked to a Rota staff member. "
    "Please ask your Rota administrator to link it."
)
SHARED_CHANNEL = (
    "Sorry, I don't work in channels shared with other organizations. Send me a direct message."
)
STALE_OPTIONS = "Those options are out of date; use the buttons on my latest message."
ALREADY_ANSWERED = "That was already answered."
CANCELLED = "Cancelled. Nothing was booked."
REFUSAL = "slack_refusal"
"""The outbox template of a reply refusing the asker's question (`Reply.refused`)."""
NEUTRAL_PREVIEW = "Rota sent you an update."
"""Notification text for messages carrying patient details (previews show on lock screens)."""

APPOINTMENT_ID = re.compile(r"\bappt-[0-9a-f]{6,}\b")
_CLOCK_TIME = re.compile(r"\b\d{1,2}(:\d{2}|\s?[ap]\.?m\b)", re.I)


@dataclass(frozen=True)
class Scanner:
    """Finds the patients a text names (full name, family names, ids and known identifiers)."""

    pattern: re.Pattern[str] | None
    owner: dict[str, str]
    loose: re.Pattern[str] | None
    """Any single first or last name of a patient: stricter, used to guard channel messages."""

    def patients_in(self, text: str) -> list[str]:
        if self.pattern is None or not text:
            return []
        found = {self.owner[m.group(0).casefold()] for m in self.pattern.finditer(text)}
        return sorted(found)

    def channel_safe(self, text: str) -> bool:
        """No patient name (even a part of one), id or identifier, and no clock time."""
        if _CLOCK_TIME.search(text) or APPOINTMENT_ID.search(text):
            return False
        if self.patients_in(text):
            return False
        return not (self.loose and self.loose.search(text))


_SCANNERS: dict[int, tuple[Roster, Scanner]] = {}


def scanner(roster: Roster) -> Scanner:
    cached = _SCANNERS.get(id(roster))
    if cached and cached[0] is roster:
        return cached[1]
    owner: dict[str, str] = {}
    parts: set[str] = set()
    for p in roster.patients:
        # identifiers are (type, value) pairs (older rosters held bare values)
        values = [i[-1] if isinstance(i, tuple) else i for i in p.identifiers]
        for value in (p.name, p.id, *p.family, *values):
            if isinstance(value, str) and len(value.strip()) >= 3:
                owner[value.strip().casefold()] = p.id
        parts.update(w for w in re.split(r"[\s,.'-]+", p.name) if len(w) >= 3)
    staff_words = {w for s in roster.staff for w in re.split(r"[\s,.'-]+", s.name)}
    parts -= staff_words | {"Dr", "Jr", "Sr"}

    def alternation(values: set[str] | list[str]) -> re.Pattern[str] | None:
        if not values:
            return None
        ordered = sorted(values, key=len, reverse=True)
        return re.compile(
            r"(?<!\w)(" + "|".join(re.escape(v) for v in ordered) + r")(?!\w)", re.IGNORECASE
        )

    result = Scanner(alternation(list(owner)), owner, alternation(parts))
    _SCANNERS.clear()  # one roster at a time is enough; rosters change rarely
    _SCANNERS[id(roster)] = (roster, result)
    return result


def is_private(channel: str | None) -> bool:
    """A direct message with the bot (Slack's IM channel ids start with D)."""
    return bool(channel and channel.startswith("D"))


def refusal(
    db: Database,
    scan: Scanner,
    *,
    channel: str,
    texts: Iterable[str],
    recipient: str | None,
    patients: Iterable[str] = (),
    refusal: bool = False,
) -> str | None:
    """None when the message may go to `channel`; otherwise why not, in the rule's words.

    A DM is judged as the recipient's look-up (`view_schedule`) of the patients it names: an
    answer to their question or news of a change someone else made, what matters is whether
    this recipient may see it (PRIV-ROLE-NEED). Any other conversation may hold people outside
    the workforce's need to know, so it counts as a public channel: whatever there could
    identify a patient is refused (PRIV-PUBLIC-CHANNEL).

    `refusal`: the message refuses the recipient's own question; in their DM it says back only
    what they asked, so it is no look-up of anyone (no disclosure, no access-log row)."""
    texts = [t for t in texts if t]
    if refusal and is_private(channel):
        return None
    named = set(patients)
    for text in texts:
        named.update(scan.patients_in(text))
    if is_private(channel):
        if not named:
            return None
        where, identifies = "dm", True
    else:
        where, identifies = "public_channel", not all(scan.channel_safe(t) for t in texts)
        if not identifies:
            return None
    try:
        disclose(
            db,
            Disclose(
                actor=recipient or "unknown",
                action="view_schedule",
                channel=where,
                recipient="workforce",
                recipient_staff=recipient,
                patients=tuple(sorted(named)),
                identifies_patient=identifies,
                purpose="Slack message",
            ),
        )
    except RotaError as exc:
        return str(exc)
    return None
