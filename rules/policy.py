"""`RulesPolicy`: the booking service's policy hook (clinic.booking.BookingPolicy, structurally).

The booking service calls `check` inside its transaction; a refusal becomes RuleViolation and the
decision is written to the audit event. The composition root passes it in (clinic never imports
rules).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from clinic.booking import PolicyDecision, ProposedChange
from rules.decision import Decision
from rules.facts import situation_for_change
from rules.service import RulesService, default_service


class RulesPolicy:
    def __init__(self, service: RulesService | None = None, clock: object | None = None) -> None:
        self.service = service or default_service()
        self.clock = clock

    def decide(self, session: Session, change: ProposedChange) -> Decision:
        now = self.clock() if callable(self.clock) else None
        actor, situation = situation_for_change(
            session, self.service.packs, change, now=now if isinstance(now, datetime) else None
        )
        return self.service.evaluate(change.action, actor, situation)

    def check(self, session: Session, change: ProposedChange) -> PolicyDecision:
        return to_policy_decision(self.decide(session, change))


def to_policy_decision(decision: Decision) -> PolicyDecision:
    return PolicyDecision(
        allowed=decision.allowed,
        fired=[
            {
                "id": f.id,
                "severity": f.severity,
                "message": f.message,
                "overridden": f.overridden,
                "sources": list(f.sources),
            }
            for f in decision.fired
        ],
        obligations=list(decision.obligations),
        message=decision.message,
    )
