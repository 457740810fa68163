"""compliance_report: court orders behind this week, authorizations needing attention."""

from __future__ import annotations

from assistant import reports
from assistant.access import authorize
from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame
from assistant.dialogue.turn import Turn


def compliance(turn: Turn, frame: Frame) -> Reply:
    authorize(turn.db, turn.caller, "compliance_report")
    with turn.db.read() as session:
        c = reports.compliance(session, turn.now)
    return turn.reply(
        wording.compliance(c, turn.names()),
        options=[{"court": c.court, "authorizations": c.authorizations}],
    )
