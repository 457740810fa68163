"""What a conversation remembers between messages, as types.

Stored as JSON in the conversation table (assistant.conversation); `from_dict` and `as_dict`
are the only places that know the stored keys. The stored shape is the one the doors already
read (the Slack door checks `options` before a "Book" button books), and an older or partial
record loads as far as it goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Frame = dict[str, Any]
"""A request frame (../shared/contracts/request-frame.schema.json)."""


@dataclass
class Pending:
    """A question waiting for its answer: which patient the request in `frame` is for."""

    frame: Frame
    candidates: list[str] = field(default_factory=list)
    missing: Literal["patient"] = "patient"


@dataclass
class SlotSearch:
    """The slot request on offer: what "none of those" and "book option N" refer to."""

    patient: str
    session_type: str
    start: datetime
    end: datetime
    staff: str | None = None
    needs: list[str] = field(default_factory=list)
    minutes: int | None = None
    soonest: bool = False
    """Offer the earliest safe options first (an emergency), not the best-scored ones."""


@dataclass
class Option:
    """One offered slot."""

    start: datetime
    end: datetime
    staff: list[str]
    room: str | None
    score: float
    why: dict[str, float]

    @property
    def key(self) -> tuple[datetime, tuple[str, ...]]:
        """What makes two offers the same offer."""
        return self.start, tuple(self.staff)


@dataclass
class PendingCancel:
    """A cancellation waiting for "yes" (kept until it succeeds, so an override can retry)."""

    appointment: str
    reason: str


@dataclass
class PendingRecord:
    """A change to the living record (admit, discharge, a consent, ...) being put together:
    waiting for the detail named in `missing`, then (missing None) for "yes"."""

    action: str
    """The frame's `action` (assistant.parse.records.ACTIONS)."""
    patient: str | None
    """The patient it is about (None for an admission)."""
    details: dict[str, Any] = field(default_factory=dict)
    missing: str | None = None


@dataclass
class PendingChange:
    """A change to the record waiting for "yes" (enrol in a group, close a room ...): `kind`
    names it, `data` holds what the change needs (ids and ISO times, as stored)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class LastChange:
    """The last change made in this conversation, for "undo"."""

    kind: Literal["book", "move", "cancel"]
    appointment: str
    before: dict[str, Any] | None = None
    """For a move: the appointment as it was (AppointmentView.as_record())."""


@dataclass
class PendingAttendance:
    """An attendance change waiting for the caller (assistant.dialogue.handlers.attendance):
    - "pick": which of `candidates` (appointment ids) the message meant;
    - "one": "yes" to `action` on the one appointment in `candidates` (a late cancellation);
    - "day": "yes" to a whole day's marks (`detail`: staff, day, except_patients, except_action);
    - "delay": which way (`candidates`: "shorten", "push") absorbs a delay (`detail`:
      appointment, minutes, kind)."""

    kind: Literal["pick", "one", "day", "delay"]
    action: str
    candidates: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class IntentChoice:
    """A message that reads two ways (the rules and the intent model disagree): the frame and
    the intents asked between; the answer picks one and the request goes on."""

    frame: Frame
    intents: list[str]


@dataclass
class ConversationState:
    pending: Pending | None = None
    request: SlotSearch | None = None
    options: list[Option] = field(default_factory=list)
    """The options of the latest answer: what "book option N" picks from."""
    offered: list[Option] = field(default_factory=list)
    """Every option offered for `request` so far, so "none of those" shows new ones."""
    move_of: str | None = None
    """When set, booking an option moves this appointment instead of booking a new one."""
    confirm: PendingCancel | None = None
    change: PendingChange | None = None
    awaiting_override: int | Literal["undo"] | None = None
    """What a rule refused, the option number or the undo; "override: <reason>" retries it."""
    last_change: LastChange | None = None
    record: PendingRecord | None = None
    """A living-record change asked for and not yet made."""
    attendance: PendingAttendance | None = None
    intent_choice: IntentChoice | None = None
    unsure: Frame | None = None
    """A frame that would act, read with too little confidence: said back, waiting for "yes"
    (assistant.dialogue.handlers.unsure)."""
    series: str | None = None
    """The series this conversation last booked or changed: what "cancel this and following"
    is about when no patient is named."""

    def drop_offers(self) -> None:
        """Forget everything on offer or waiting (keeps what "undo" needs)."""
        self.pending = self.request = self.confirm = self.move_of = None
        self.record = self.change = self.attendance = self.intent_choice = None
        self.unsure = None
        self.options, self.offered, self.awaiting_override = [], [], None

    # -- storage -------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConversationState:
        pending, request = data.get("pending"), data.get("request")
        confirm, change = data.get("confirm"), data.get("last_change")
        waiting = data.get("awaiting_override")
        record = data.get("record")
        marking = data.get("attendance")
        return cls(
            pending=Pending(pending["frame"], list(pending.get("candidates") or []))
            if pending
            else None,
            request=SlotSearch(
                patient=request["patient"],
                session_type=request["session_type"],
                start=datetime.fromisoformat(request["start"]),
                end=datetime.fromisoformat(request["end"]),
                staff=request.get("staff"),
                needs=list(request.get("needs") or []),
                minutes=request.get("minutes"),
                soonest=bool(request.get("soonest")),
            )
            if request
            else None,
            options=[_option(o) for o in data.get("options") or []],
            offered=[_option(o) for o in data.get("offered") or []],
            move_of=data.get("move_of"),
            confirm=PendingCancel(confirm["appointment"], confirm["reason"]) if confirm else None,
            change=PendingChange(data["change"]["kind"], dict(data["change"].get("data") or {}))
            if data.get("change")
            else None,
            awaiting_override=(waiting.get("option") or ("undo" if waiting.get("undo") else None))
            if waiting
            else None,
            last_change=LastChange(change["kind"], change["appointment"], change.get("before"))
            if change
            else None,
            record=PendingRecord(
                record["action"],
                record.get("patient"),
                dict(record.get("details") or {}),
                record.get("missing"),
            )
            if record
            else None,
            attendance=PendingAttendance(
                marking["kind"],
                marking["action"],
                list(marking.get("candidates") or []),
                dict(marking.get("detail") or {}),
            )
            if marking
            else None,
            series=data.get("series"),
            intent_choice=IntentChoice(choice["frame"], list(choice["intents"]))
            if (choice := data.get("intent_choice"))
            else None,
            unsure=dict(data["unsure"]) if data.get("unsure") else None,
        )

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "options": [_option_dict(o) for o in self.options],
            "offered": [_option_dict(o) for o in self.offered],
        }
        if self.pending:
            data["pending"] = {
                "missing": self.pending.missing,
                "frame": self.pending.frame,
                "candidates": self.pending.candidates,
            }
        if self.request:
            r = self.request
            data["request"] = {
                "patient": r.patient,
                "session_type": r.session_type,
                "start": r.start.isoformat(),
                "end": r.end.isoformat(),
                "staff": r.staff,
                "needs": r.needs,
                "minutes": r.minutes,
                "soonest": r.soonest,
            }
        if self.move_of:
            data["move_of"] = self.move_of
        if self.confirm:
            data["confirm"] = {
                "kind": "cancel",
                "appointment": self.confirm.appointment,
                "reason": self.confirm.reason,
            }
        if self.change:
            data["change"] = {"kind": self.change.kind, "data": self.change.data}
        if self.awaiting_override == "undo":
            data["awaiting_override"] = {"undo": True}
        elif self.awaiting_override is not None:
            data["awaiting_override"] = {"option": self.awaiting_override}
        if self.last_change:
            c = self.last_change
            data["last_change"] = {"kind": c.kind, "appointment": c.appointment}
            if c.before is not None:
                data["last_change"]["before"] = c.before
        if self.record:
            r = self.record
            data["record"] = {
                "action": r.action,
                "patient": r.patient,
                "details": r.details,
                "missing": r.missing,
            }
        if self.attendance:
            a = self.attendance
            data["attendance"] = {
                "kind": a.kind,
                "action": a.action,
                "candidates": a.candidates,
                "detail": a.detail,
            }
        if self.series:
            data["series"] = self.series
        if self.intent_choice:
            data["intent_choice"] = {
                "frame": self.intent_choice.frame,
                "intents": self.intent_choice.intents,
            }
        if self.unsure:
            data["unsure"] = self.unsure
        return data


def _option(data: dict[str, Any]) -> Option:
    return Option(
        start=datetime.fromisoformat(data["start"]),
        end=datetime.fromisoformat(data["end"]),
        staff=list(data["staff"]),
        room=data.get("room"),
        score=data.get("score", 0.0),
        why=dict(data.get("why") or {}),
    )


def _option_dict(o: Option) -> dict[str, Any]:
    return {
        "start": o.start.isoformat(),
        "end": o.end.isoformat(),
        "staff": o.staff,
        "room": o.room,
        "score": o.score,
        "why": o.why,
    }
