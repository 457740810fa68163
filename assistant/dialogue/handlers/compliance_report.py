"""compliance_report: court orders behind this week, authorizations needing attention."""

from __future__ import annotations

from assistant import reports
from assistant.access import authorize
from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame
from assistant.dialogue.turn import Turn
from clinic import access_log


def compliance(turn: Turn, frame: Frame) -> Reply:
    authorize(turn.db, turn.caller, "compliance_report")
    with turn.db.read() as session:
        c = reports.compliance(session, turn.now)
    detail = {"report": "compliance"}
    access_log.record_reads(
        turn.db, turn.caller, access_log.REPORT_VIEW, c.patients(), detail=detail
    )
    return turn.reply(
        wording.compliance(c, turn.names()),
        options=[{"court": c.court, "authorizations": c.authorizations}],
    )
