"""The conversation: understand a message, ask for what is missing, offer options, confirm,
book, undo. The same for every door (HTTP, Slack, terminal).

Understanding (`assistant.parse`) turns text into a request frame; this module decides what to
do with it (Rasa's split of NLU from dialogue policy) and calls the use cases. State lives in
the database per conversation: the options on offer, a question waiting for its answer, and the
last change (for "undo").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from assistant import gate, proposals, reports, schedule
from assistant.access import authorize, may
from assistant.conversation import load_state, new_conversation_id, save_state
from assistant.llm.fallback import understand
from assistant.llm.gateway import Gateway, LLMConfigError, db_audit_sink
from assistant.llm.summary import summarize
from assistant.optimize import SlotsQuery, offer_slots
from assistant.phi import redactor_for
from assistant.roster import Roster, load_roster
from assistant.wiring import booking_service
from clinic.booking import AppointmentView, BookingRequest
from clinic.db import Database
from clinic.errors import (
    BookingConflict,
    InvalidInput,
    PermissionDenied,
    RotaError,
    RuleViolation,
)
from clinic.models import AuditEvent, Patient, Staff
from clinic.queries import appointments_between
from clinic.timeutil import day_bounds, now_utc, parse_datetime
from clinic.tokens import Caller

log = logging.getLogger("rota.dialogue")
OPTIONS_PER_ANSWER = 3
DEFAULT_HORIZON = timedelta(days=7)
_UNDO = re.compile(r"^\s*(undo|undo that|revert|take that back)\W*$", re.I)
_APPLY = re.compile(
    r"^\s*(apply|approve|approved|apply it|apply (the )?proposal)\s*(?P<id>P-[0-9a-f]+)?\W*$", re.I
)
_REJECT = re.compile(r"^\s*(reject|adjust|decline proposal)\s*(?P<id>P-[0-9a-f]+)?\W*$", re.I)
_PENDING = re.compile(r"^\s*(pending|proposals|what needs my approval|show proposals)\W*$", re.I)
_OVERRIDE = re.compile(r"^\s*override\s*[:,-]?\s*(?P<reason>.+)$", re.I)
_DROP = re.compile(r"^\s*(never ?mind|forget it|cancel that|stop|no thanks|nothing)\W*$", re.I)
_MORE = re.compile(r"^\s*(more|more options|other options|show more)\W*$", re.I)


@dataclass
class Reply:
    conversation_id: str
    reply: str
    frame: dict[str, Any] | None = None
    options: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)
    """What a door may offer as buttons: {"label", "message"}; sending `message` does it."""
    notify: list[dict[str, Any]] = field(default_factory=list)
    """Who must be told what (a door with a channel to them, like Slack, delivers it)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "reply": self.reply,
            "frame": self.frame,
            "options": self.options,
            "actions": self.actions,
            "notify": self.notify,
        }


class _Roster:
    """The roster for parsing, rebuilt only when the facility or its people change."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._roster: Roster | None = None

    def get(self, db: Database) -> Roster:
        with db.read() as session:
            key = (
                db.url,
                session.scalar(
                    select(func.max(AuditEvent.seq)).where(AuditEvent.action == "facility.load")
                ),
                session.scalar(select(func.count()).select_from(Patient)),
                session.scalar(select(func.count()).select_from(Staff)),
            )
            if key != self._key or self._roster is None:
                self._roster = load_roster(session)
                self._key = key
            return self._roster


class Dialogue:
    def __init__(self, db: Database, clock: Callable[[], datetime] = now_utc) -> None:
        self.db = db
        self.clock = clock
        self._roster = _Roster()
        self._gateway: Gateway | None = None
        self._gateway_roster: Roster | None = None

    # -- the entry point -----------------------------------------------------------------------

    def handle(self, caller: Caller, message: str, conversation_id: str | None = None) -> Reply:
        text = (message or "").strip()
        if not text:
            raise InvalidInput("say something, e.g. 'find a slot for Jamie tomorrow'")
        if len(text) > 2000:
            raise InvalidInput("that message is too long (2,000 characters at most)")
        conversation_id = conversation_id or new_conversation_id()
        with self.db.read() as session:
            state = load_state(session, conversation_id, caller.staff_id)
        turn = _Turn(self, caller, conversation_id, state, text)
        reply = turn.run()
        with self.db.session() as session:
            save_state(session, conversation_id, caller.staff_id, turn.state)
        return reply

    def roster(self) -> Roster:
        return self._roster.get(self.db)

    def gateway(self) -> Gateway | None:
        """The LLM gateway when ROTA_LLM is set (off by default); rebuilt with the roster."""
        roster = self.roster()
        if self._gateway_roster is not roster:
            try:
                self._gateway = Gateway.from_env(redactor_for(roster), audit=db_audit_sink(self.db))
            except LLMConfigError as exc:
                log.warning("LLM disabled: %s", exc)
                self._gateway = None
            self._gateway_roster = roster
        return self._gateway


class _Turn:
    """One message and its answer."""

    def __init__(
        self,
        dialogue: Dialogue,
        caller: Caller,
        conversation_id: str,
        state: dict[str, Any],
        text: str,
    ) -> None:
        self.d = dialogue
        self.db = dialogue.db
        self.caller = caller
        self.cid = conversation_id
        self.state = state
        self.text = text
        self.now = dialogue.clock()
        self.tz = self.db.facility_tz()
        self.frame: dict[str, Any] | None = None

    def reply(self, text: str, **extra: Any) -> Reply:
        return Reply(self.cid, text, self.frame, **extra)

    # -- dispatch ------------------------------------------------------------------------------

    def run(self) -> Reply:
        try:
            return self._dispatch()
        except RuleViolation as exc:
            return self._denied(exc)
        except PermissionDenied as exc:
            return self.reply(f"Sorry, I can't do that: {exc}.")
        except RotaError as exc:
            return self.reply(str(exc)[:1].upper() + str(exc)[1:] + ".")

    def _dispatch(self) -> Reply:
        if _UNDO.match(self.text):
            return self._undo()
        if _PENDING.match(self.text):
            return self._list_proposals()
        if m := _APPLY.match(self.text):
            return self._apply_proposal(m.group("id"))
        if m := _REJECT.match(self.text):
            return self._reject_proposal(m.group("id"))
        if m := _OVERRIDE.match(self.text):
            return self._override(m.group("reason").strip())
        if _DROP.match(self.text):
            return self._drop()
        if _MORE.match(self.text):
            return self._more()
        frame = understand(
            self.text,
            roster=self.d.roster(),
            now=self.now,
            actor=self.caller.staff_id,
            gateway=self.d.gateway(),
        )
        self.frame = frame
        intent = frame["intent"]
        refused = gate.refusal(self.caller, frame)
        if refused:  # before any name is resolved: the same sentence whoever was named
            self.state.pop("pending", None)
            return self.reply(refused)
        pending = self.state.get("pending")
        if (
            pending
            and intent in {"unknown", "confirm", "find_slot", "book"}
            and self._answers(pending, frame)
        ):
            return self._resume(pending, frame)
        if intent == "confirm":
            return self._confirm(frame.get("option"))
        if intent == "decline":
            if self.state.get("confirm"):
                self.state.pop("confirm")
                return self.reply("OK, I left it as it was.")
            return self._more()
        handler = {
            "find_slot": self._offer,
            "book": self._offer,
            "cancel": self._cancel,
            "reschedule": self._reschedule,
            "schedule_lookup": self._lookup,
            "staff_unavailable": self._staff_unavailable,
            "emergency_intake": self._emergency,
            "utilization_summary": self._utilization,
            "compliance_report": self._compliance,
            "help": self._help,
        }.get(intent)
        if handler is None:
            return self.reply(
                "I didn't catch that. Try 'find an individual slot for Jamie Rivera tomorrow "
                "afternoon', 'what's on my schedule today', 'I'm out sick today' or 'help'."
            )
        return handler(frame)

    # -- clarification -------------------------------------------------------------------------

    def _answers(self, pending: dict[str, Any], frame: dict[str, Any]) -> bool:
        missing = pending["missing"]
        if missing == "patient":
            patient = frame.get("patient")
            return bool(patient and (patient.get("id") or patient.get("candidates"))) or (
                frame.get("option") is not None and bool(pending.get("candidates"))
            )
        return False

    def _resume(self, pending: dict[str, Any], frame: dict[str, Any]) -> Reply:
        original = pending["frame"]
        patient = frame.get("patient")
        if (
            frame.get("option") is not None
            and pending.get("candidates")
            and not (patient and patient.get("id"))
        ):
            index = frame["option"] - 1
            if not 0 <= index < len(pending["candidates"]):
                return self.reply(f"Please pick 1 to {len(pending['candidates'])}.")
            chosen = pending["candidates"][index]
            original["patient"] = {
                "text": original["patient"]["text"] if original.get("patient") else chosen,
                "id": chosen,
            }
        else:
            original["patient"] = patient
        self.state.pop("pending", None)
        self.frame = original
        return {
            "find_slot": self._offer,
            "book": self._offer,
            "cancel": self._cancel,
            "reschedule": self._reschedule,
            "emergency_intake": self._emergency,
        }[original["intent"]](original)

    def _need_patient(self, frame: dict[str, Any]) -> str | Reply:
        """The patient's id, or a question asking which patient."""
        mention = frame.get("patient")
        if mention and mention.get("id"):
            return mention["id"]
        if mention and mention.get("candidates"):
            names = self._names()
            candidates = mention["candidates"][:5]
            self.state["pending"] = {"missing": "patient", "frame": frame, "candidates": candidates}
            listed = " or ".join(f"{names.get(c, c)} ({c})" for c in candidates)
            return self.reply(
                f"Which patient — {listed}?",
                actions=[
                    {"label": names.get(c, c), "message": f"option {i + 1}"}
                    for i, c in enumerate(candidates)
                ],
            )
        self.state["pending"] = {"missing": "patient", "frame": frame}
        if mention:
            return self.reply(
                f"I don't know a patient called {mention.get('text')!r}. Which patient do you mean?"
            )
        return self.reply("Which patient is this for?")

    # -- offering and booking ------------------------------------------------------------------

    def _window(
        self, frame: dict[str, Any], default: timedelta = DEFAULT_HORIZON
    ) -> tuple[datetime, datetime]:
        window = frame.get("window")
        if window:
            start = parse_datetime(window["start"], self.tz)
            end = parse_datetime(window["end"], self.tz)
            if end <= start:  # 'at 2pm': an exact time
                end = start + timedelta(minutes=1)
        else:
            start, end = self.now, self.now + default
        return max(start, self.now), end

    def _asked_period(
        self, frame: dict[str, Any], default: tuple[datetime, datetime]
    ) -> tuple[datetime, datetime]:
        """The period the message names, as given (no clamping to now), else `default`."""
        window = frame.get("window")
        if not window:
            return default
        return parse_datetime(window["start"], self.tz), parse_datetime(window["end"], self.tz)

    def _today(self) -> tuple[datetime, datetime]:
        return day_bounds(self.now.astimezone(self.tz).date(), self.tz)

    def _offer(self, frame: dict[str, Any], *, note: str = "") -> Reply:
        patient = self._need_patient(frame)
        if isinstance(patient, Reply):
            return patient
        authorize(self.db, self.caller, "find_slot", patient_id=patient)
        start, end = self._window(frame)
        if end <= self.now:
            return self.reply("That time has already passed. When should it be?")
        session_type = frame.get("session_type") or "individual"
        staff = (frame.get("staff") or {}).get("id")
        request = {
            "patient": patient,
            "session_type": session_type,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "staff": staff,
            "needs": frame.get("needs") or [],
            "minutes": frame.get("duration_minutes"),
        }
        self.state["request"] = request
        self.state["offered"] = []
        self.state.pop("move_of", None)
        return self._present(note)

    def _present(self, note: str = "") -> Reply:
        request = self.state["request"]
        offered = {(o["start"], tuple(o["staff"])) for o in self.state.get("offered", [])}
        query = SlotsQuery(
            patient=request["patient"],
            session_type=request["session_type"],
            start=datetime.fromisoformat(request["start"]),
            end=datetime.fromisoformat(request["end"]),
            staff=request.get("staff"),
            needs=tuple(request.get("needs") or ()),
            k=OPTIONS_PER_ANSWER + len(offered),
        )
        answer, built = offer_slots(self.db, query, now=self.now)
        clock = built.clock

        def as_option(o: Any) -> dict[str, Any]:
            return {
                "start": clock.moment(o.start).isoformat(),
                "end": clock.moment(o.end).isoformat(),
                "staff": list(o.staff),
                "room": o.room,
                "score": round(o.score, 2),
                "why": dict(o.why),
            }

        fresh = [as_option(o) for o in answer.options]
        fresh = [o for o in fresh if (o["start"], tuple(o["staff"])) not in offered][
            :OPTIONS_PER_ANSWER
        ]
        nearest = False
        if not fresh and answer.nearest:
            fresh = [as_option(o) for o in answer.nearest][:OPTIONS_PER_ANSWER]
            nearest = True
        names = self._names()
        who = names.get(request["patient"], request["patient"])
        if not fresh:
            self.state["options"] = []
            why = answer.reason or "nothing fits"
            return self.reply(
                f"I found no {self._type_name(request['session_type'])} slot for {who} then: {why}. "
                "Try a wider window, e.g. 'next week'."
            )
        self.state["options"] = fresh
        self.state["offered"] = self.state.get("offered", []) + fresh
        head = note + (
            f"Nothing fits in that window ({answer.reason}); the nearest options are:"
            if nearest
            else f"Options for {who} ({self._type_name(request['session_type'])}):"
        )
        lines = [head] + [
            f"{i}. {self._describe(o, names)} — {self._why(o['why'])}"
            for i, o in enumerate(fresh, 1)
        ]
        others = ", ".join(str(i) for i in range(2, len(fresh) + 1))
        lines.append(
            "Reply 'book option 1'"
            + (f" (or {others})" if others else "")
            + ", or 'none of those' for more."
        )
        return self.reply(
            "\n".join(lines),
            options=[self._option_json(i, o, names) for i, o in enumerate(fresh, 1)],
            actions=[
                {"label": f"Book {i}", "message": f"book option {i}"}
                for i in range(1, len(fresh) + 1)
            ]
            + [
                {"label": "More options", "message": "none of those"},
                {"label": "Cancel", "message": "never mind"},
            ],
        )

    def _drop(self) -> Reply:
        for key in (
            "options",
            "request",
            "offered",
            "confirm",
            "pending",
            "move_of",
            "awaiting_override",
        ):
            self.state.pop(key, None)
        return self.reply("OK, dropped. Nothing was booked or changed.")

    def _more(self) -> Reply:
        if not self.state.get("request"):
            return self.reply("There is nothing on offer yet. Ask me for a slot first.")
        request = self.state["request"]
        note = ""
        if len(self.state.get("offered", [])) >= 3 * OPTIONS_PER_ANSWER:
            end = datetime.fromisoformat(request["end"]) + DEFAULT_HORIZON
            request["end"] = end.isoformat()
            self.state["offered"] = []
            note = "I widened the window by a week. "
        reply = self._present(note)
        if not reply.options:
            end = datetime.fromisoformat(request["end"]) + DEFAULT_HORIZON
            request["end"] = end.isoformat()
            reply = self._present("Nothing else in that window, so I looked a week further. ")
        return reply

    def _confirm(self, option: int | None, override_reason: str | None = None) -> Reply:
        if self.state.get("confirm"):
            return self._confirm_action(override_reason)
        options = self.state.get("options") or []
        if not options:
            return self.reply("There's nothing to confirm. Ask me for a slot first.")
        if option is None:
            if len(options) > 1:
                return self.reply(f"Which option — 1 to {len(options)}?")
            option = 1
        if not 1 <= option <= len(options):
            return self.reply(f"There is no option {option}; pick 1 to {len(options)}.")
        chosen = options[option - 1]
        request = self.state["request"]
        service = booking_service(self.db)
        names = self._names()
        try:
            if self.state.get("move_of"):
                before = service.get(self.state["move_of"])
                for p in before.patients:
                    authorize(self.db, self.caller, "reschedule", patient_id=p)
                after = service.move(
                    self.caller.staff_id,
                    before.id,
                    start=datetime.fromisoformat(chosen["start"]),
                    staff=chosen["staff"],
                    room=chosen["room"],
                    reason=f"rescheduled in conversation {self.cid}",
                    override_reason=override_reason,
                )
                self.state["last_change"] = {
                    "kind": "move",
                    "appointment": before.id,
                    "before": before.as_record(),
                }
                verb = "Moved"
            else:
                after = schedule.book(
                    self.db,
                    self.caller,
                    BookingRequest(
                        session_type=request["session_type"],
                        start=datetime.fromisoformat(chosen["start"]),
                        staff=chosen["staff"],
                        patients=[request["patient"]],
                        room=chosen["room"],
                        minutes=request.get("minutes"),
                    ),
                    reason=f"booked in conversation {self.cid}",
                    override_reason=override_reason,
                )
                self.state["last_change"] = {"kind": "book", "appointment": after.id}
                verb = "Booked"
        except BookingConflict as exc:
            self.state["offered"] = []
            return self._present(f"That option is no longer free ({exc}). Here are new options. ")
        except RuleViolation as exc:
            self.state["awaiting_override"] = {"option": option}
            raise exc
        self.state.pop("options", None)
        self.state.pop("awaiting_override", None)
        return self.reply(
            f"{verb}: {self._describe_appt(after, names)} (id {after.id}). Say 'undo' to take it back.",
            actions=[{"label": "Undo", "message": "undo"}],
        )

    def _override(self, reason: str) -> Reply:
        waiting = self.state.get("awaiting_override")
        if not waiting and not self.state.get("confirm"):
            return self.reply("There is nothing waiting for an override.")
        if self.state.get("confirm"):
            return self._confirm_action(reason)
        return self._confirm(waiting["option"], override_reason=reason)

    def _denied(self, exc: RuleViolation) -> Reply:
        decision = exc.decision
        fired = getattr(decision, "fired", []) or []
        blocking = [r for r in fired if r.get("severity") in {"deny", "require_override"}]
        lines = ["Not allowed:"] if blocking else [f"Not allowed: {exc}"]
        lines += [f"- {r.get('id')}: {r.get('message')}" for r in blocking]
        if any(r.get("severity") == "require_override" for r in fired):
            lines.append("An authorized person can override it: reply 'override: <reason>'.")
        else:  # nothing to override: forget the attempt
            self.state.pop("awaiting_override", None)
            self.state.pop("confirm", None)
        return self.reply("\n".join(lines))

    # -- cancel and reschedule -----------------------------------------------------------------

    def _find_appointment(self, frame: dict[str, Any], verb: str) -> AppointmentView | Reply:
        patient = self._need_patient(frame)
        if isinstance(patient, Reply):
            return patient
        authorize(self.db, self.caller, verb, patient_id=patient)
        window = frame.get("window") if frame["intent"] == "cancel" else None
        start, end = self._window({"window": window}, default=timedelta(days=30))
        with self.db.read() as session:
            rows = appointments_between(
                session, start, end, patient=patient, include_cancelled=False
            )
        rows = [r for r in rows if r.status in {"booked", "proposed"}]
        names = self._names()
        if not rows:
            return self.reply(f"{names.get(patient, patient)} has no upcoming appointment then.")
        return rows[0]

    def _cancel(self, frame: dict[str, Any]) -> Reply:
        found = self._find_appointment(frame, "cancel")
        if isinstance(found, Reply):
            return found
        names = self._names()
        reason = _reason_in(self.text) or f"cancelled in conversation by {self.caller.name}"
        self.state["confirm"] = {"kind": "cancel", "appointment": found.id, "reason": reason}
        return self.reply(
            f"Cancel {self._describe_appt(found, names)}? Reply 'yes' to cancel it.",
            actions=[
                {"label": "Yes, cancel", "message": "yes"},
                {"label": "Keep it", "message": "no"},
            ],
        )

    def _confirm_action(self, override_reason: str | None) -> Reply:
        pending = self.state["confirm"]  # kept until it succeeds, so an override can retry it
        names = self._names()
        if pending["kind"] == "cancel":
            appointment = schedule.cancel(
                self.db,
                self.caller,
                pending["appointment"],
                reason=pending["reason"],
                override_reason=override_reason,
            )
            self.state.pop("confirm", None)
            self.state["last_change"] = {"kind": "cancel", "appointment": appointment.id}
            return self.reply(
                f"Cancelled: {self._describe_appt(appointment, names)}. Say 'undo' to rebook it.",
                actions=[{"label": "Undo", "message": "undo"}],
            )
        self.state.pop("confirm", None)
        raise InvalidInput("nothing to confirm")

    def _reschedule(self, frame: dict[str, Any]) -> Reply:
        found = self._find_appointment(frame, "reschedule")
        if isinstance(found, Reply):
            return found
        start, end = self._window(frame)
        self.state["request"] = {
            "patient": found.patients[0],
            "session_type": found.session_type,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "staff": None,
            "needs": [],
            "minutes": found.minutes,
        }
        self.state["offered"] = []
        self.state["move_of"] = found.id
        names = self._names()
        return self._present(f"Moving {self._describe_appt(found, names)}. ")

    def _undo(self) -> Reply:
        last = self.state.get("last_change")
        if not last:
            return self.reply("There is nothing to undo in this conversation.")
        service = booking_service(self.db)
        names = self._names()
        current = service.get(last["appointment"])
        reason = f"undone in conversation {self.cid}"
        if last["kind"] == "book":
            service.cancel(self.caller.staff_id, current.id, reason=reason)
            text = f"Undone: the booking {current.id} is cancelled."
        elif last["kind"] == "move":
            before = last["before"]
            service.move(
                self.caller.staff_id,
                current.id,
                start=datetime.fromisoformat(before["start"]),
                staff=before["staff"],
                room=before["room"],
                reason=reason,
            )
            text = f"Undone: {current.id} is back at its old time."
        else:  # a cancellation is final in the record, so undo books the same session again
            rebooked = service.book(
                self.caller.staff_id,
                BookingRequest(
                    session_type=current.session_type,
                    start=current.start,
                    staff=current.staff,
                    patients=current.patients,
                    room=current.room,
                    group=current.group,
                ),
                reason=reason,
            )
            text = f"Undone: rebooked as {rebooked.id}: {self._describe_appt(rebooked, names)}."
        self.state.pop("last_change", None)
        return self.reply(text)

    # -- lookups and reports -------------------------------------------------------------------

    def _lookup(self, frame: dict[str, Any]) -> Reply:
        patient = (frame.get("patient") or {}).get("id")
        staff = (frame.get("staff") or {}).get("id")
        room = (frame.get("room") or {}).get("id")
        if not (patient or staff or room):
            staff = self.caller.staff_id
        start, end = self._asked_period(frame, self._today())
        rows = schedule.list_appointments(
            self.db,
            self.caller,
            schedule.Period(start, end),
            staff=staff,
            patient=patient,
            room=room,
        )
        names = self._names()
        subject = names.get(patient or staff or room or "", "your")
        subject = "Your" if staff == self.caller.staff_id and not patient else f"{subject}'s"
        if not rows:
            return self.reply(f"{subject} schedule is empty {self._span(start, end)}.")
        lines = [f"{subject} schedule {self._span(start, end)}:"]
        for r in rows:
            begin = datetime.fromisoformat(r["start"])
            who = ", ".join(names.get(p, p) for p in r["patients"][:3]) if r.get("patients") else ""
            if r.get("group"):
                who = f"group {r['group']} ({len(r['patients'])})"
            kind = self._type_name(r["session_type"]) if "session_type" in r else "appointment"
            lines.append(
                f"- {begin:%a %d %b %H:%M} {kind} with {', '.join(names.get(s, s) for s in r['staff'])}"
                f"{' for ' + who if who else ''} in {r.get('room') or 'no room'} [{r['status']}]"
            )
        return self.reply("\n".join(lines))

    def _utilization(self, frame: dict[str, Any]) -> Reply:
        authorize(self.db, self.caller, "utilization_summary")
        today = self.now.astimezone(self.tz).date()
        monday = today - timedelta(days=today.weekday() + 7)  # default: last week
        last_week = (
            day_bounds(monday, self.tz)[0],
            day_bounds(monday + timedelta(days=7), self.tz)[0],
        )
        start, end = self._asked_period(frame, last_week)
        with self.db.read() as session:
            u = reports.utilization(session, start, end, self.now)
        names = self._names()
        lines = [
            f"Utilization {self._span(start, end)}:",
            f"- clinicians: {u.staff_utilization:.0%} of available time booked "
            f"({u.booked_minutes / 60:.0f} of {u.available_minutes / 60:.0f} hours)",
            f"- rooms: {u.room_utilization:.0%}",
        ]
        if u.attendance_rate is not None:
            lines.append(
                f"- attendance: {u.attendance_rate:.0%} of {u.sessions_held} past sessions; "
                f"no-show rate {u.no_show_rate:.0%}"
            )
        busiest = [r for r in u.by_staff if r["utilization"] is not None][:3]
        if busiest:
            lines.append(
                "- busiest: "
                + ", ".join(
                    f"{names.get(r['staff'], r['staff'])} {r['utilization']:.0%}" for r in busiest
                )
            )
        missing = sum(r["missing"] for r in u.unmet)
        lines.append(
            f"- unmet weekly requirements: {missing} session(s) for "
            f"{len({r['patient'] for r in u.unmet})} patient(s)"
        )
        data = {
            "staff_utilization": u.staff_utilization,
            "room_utilization": u.room_utilization,
            "attendance_rate": u.attendance_rate,
            "no_show_rate": u.no_show_rate,
            "sessions_held": u.sessions_held,
            "unmet_sessions": missing,
        }
        prose = summarize(data, roster=self.d.roster(), gateway=self.d.gateway())
        if prose:  # optional polish of the aggregates; the figures above stay as computed
            lines.append(prose)
        reply = self.reply("\n".join(lines))
        reply.options = [{"metrics": data}]
        return reply

    def _compliance(self, frame: dict[str, Any]) -> Reply:
        authorize(self.db, self.caller, "compliance_report")
        with self.db.read() as session:
            c = reports.compliance(session, self.now)
        names = self._names()
        behind = [r for r in c.court if not r["on_track"]]
        lines = [
            f"Court orders this week: {len(c.court) - len(behind)} on track, {len(behind)} behind."
        ]
        for r in behind[:10]:
            lines.append(
                f"- {names.get(r['patient'], r['patient'])}: {r['scheduled']} of {r['required']} "
                f"{self._type_name(r['session_type'])} scheduled (case {r['case_number']})"
            )
        lines.append(f"Authorizations needing attention: {len(c.authorizations)}.")
        for r in c.authorizations[:10]:
            lines.append(
                f"- {names.get(r['patient'], r['patient'])} ({r['payer']}): {', '.join(r['flags'])}"
            )
        reply = self.reply("\n".join(lines))
        reply.options = [{"court": c.court, "authorizations": c.authorizations}]
        return reply

    def _help(self, frame: dict[str, Any]) -> Reply:
        return self.reply(
            "\n".join(
                [
                    "I can:",
                    "- find and book slots: 'find a dual-diagnosis slot for Jamie Rivera tomorrow afternoon', then 'book option 2'",
                    "- cancel or move: 'cancel Jamie Rivera's appointment tomorrow', 'move Jamie Rivera to Friday morning'",
                    "- show schedules: 'what's on my schedule today', 'Dr. Raman's schedule this week'",
                    "- handle absences: 'I'm out sick today', 'running 20 minutes late'",
                    "- emergencies: 'emergency intake for Jamie Rivera asap'",
                    "- reports: 'how was therapist utilization last week?', 'which court-ordered patients are behind?'",
                    "- 'undo' reverses the last change I made in this conversation.",
                ]
            )
        )

    # -- absences and emergencies ----------------------------------------------------------------

    def _staff_unavailable(self, frame: dict[str, Any]) -> Reply:
        staff = (frame.get("staff") or {}).get("id") or self.caller.staff_id
        if staff != self.caller.staff_id:
            authorize(self.db, self.caller, "report_absence_for_others")
        start, end = self._asked_period(frame, (self.now, self._today()[1]))
        proposal = proposals.propose_absence(
            self.db, self.caller, staff, max(start, self.now), end, self.now
        )
        names = self._names()
        text = proposals.describe(proposal, names, self.tz)
        if may(self.caller, "approve_absence"):
            return self.reply(
                text + f"\nReply 'apply' to make these changes (proposal {proposal['id']}).",
                actions=[
                    {"label": "Apply", "message": f"apply {proposal['id']}"},
                    {"label": "Adjust", "message": f"reject {proposal['id']}"},
                ],
            )
        approvers = proposals.approvers(self.db)
        who = ", ".join(names.get(a, a) for a in approvers) or "the clinical director"
        return self.reply(
            text + f"\nI've sent it to {who} for approval (proposal {proposal['id']}).",
            notify=[
                {"staff": a, "kind": "approval_needed", "proposal": proposal["id"], "text": text}
                for a in approvers
            ],
        )

    def _list_proposals(self) -> Reply:
        authorize(self.db, self.caller, "approve_absence")
        pending = proposals.pending(self.db)
        if not pending:
            return self.reply("Nothing is waiting for your approval.")
        names = self._names()
        lines = [proposals.describe(p, names, self.tz) + f" (proposal {p['id']})" for p in pending]
        return self.reply(
            "\n\n".join(lines),
            actions=[{"label": f"Apply {p['id']}", "message": f"apply {p['id']}"} for p in pending],
        )

    def _apply_proposal(self, proposal_id: str | None) -> Reply:
        authorize(self.db, self.caller, "approve_absence")
        outcome = proposals.apply(self.db, self.caller, proposal_id)
        names = self._names()
        lines = [f"Applied proposal {outcome['id']}: {outcome['moved']} appointment(s) changed."]
        if outcome["unplaced"]:
            lines.append(
                f"{len(outcome['unplaced'])} could not be re-placed and stay with the absent "
                "clinician; they need a call."
            )
        for n in outcome["notify"]:
            who = n.get("staff") or n.get("patient")
            how = f" by {n['channel']}" if n.get("channel") else ""
            lines.append(f"- tell {names.get(who, who)}{how}: {n['count']} change(s)")
        return self.reply("\n".join(lines), notify=outcome["notify"])

    def _reject_proposal(self, proposal_id: str | None) -> Reply:
        authorize(self.db, self.caller, "approve_absence")
        rejected = proposals.reject(self.db, self.caller, proposal_id)
        return self.reply(
            f"Proposal {rejected} set aside; nothing was changed. Adjust by hand or ask me again."
        )

    def _emergency(self, frame: dict[str, Any]) -> Reply:
        patient = self._need_patient(frame)
        if isinstance(patient, Reply):
            return patient
        authorize(self.db, self.caller, "emergency_intake", patient_id=patient)
        frame = dict(frame)
        frame["session_type"] = frame.get("session_type") or "intake_assessment"
        start, end = self._window(frame, default=timedelta(hours=4))
        frame["window"] = {"start": start.isoformat(), "end": end.isoformat()}
        reply = self._offer(frame, note="Earliest safe slots. ")
        if reply.options:
            return reply
        bumps = proposals.emergency_bumps(
            self.db, patient, frame["session_type"], start, end, self.now
        )
        if not bumps:
            return reply
        lines = [reply.reply, "To make room sooner, these lower-priority appointments could move:"]
        for b in bumps:
            lines.append(f"- {b}")
        reply.reply = "\n".join(lines)
        return reply

    # -- wording ---------------------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        roster = self.d.roster()
        names: dict[str, str] = {}
        for group in (
            getattr(roster, "patients", ()),
            getattr(roster, "staff", ()),
            getattr(roster, "rooms", ()),
        ):
            for entry in group:
                names[entry.id] = entry.name
        return names

    def _type_name(self, session_type: str) -> str:
        return session_type.replace("_", " ")

    def _span(self, start: datetime, end: datetime) -> str:
        a, b = start.astimezone(self.tz), (end - timedelta(seconds=1)).astimezone(self.tz)
        if a.date() == b.date():
            return f"on {a:%a %d %b}"
        return f"from {a:%a %d %b} to {b:%a %d %b}"

    def _describe(self, option: dict[str, Any], names: dict[str, str]) -> str:
        start = datetime.fromisoformat(option["start"]).astimezone(self.tz)
        end = datetime.fromisoformat(option["end"]).astimezone(self.tz)
        staff = ", ".join(names.get(s, s) for s in option["staff"])
        room = f" in {names.get(option['room'], option['room'])}" if option.get("room") else ""
        return f"{start:%a %d %b %H:%M}–{end:%H:%M} with {staff}{room}"

    def _describe_appt(self, a: AppointmentView, names: dict[str, str]) -> str:
        start, end = a.start.astimezone(self.tz), a.end.astimezone(self.tz)
        who = ", ".join(names.get(p, p) for p in a.patients[:3])
        staff = ", ".join(names.get(s, s) for s in a.staff)
        kind = (
            self._type_name(a.session_type)
            if may(self.caller, "see_clinical_detail")
            else "appointment"
        )
        room = f" in {names.get(a.room, a.room)}" if a.room else ""
        return f"{kind} {start:%a %d %b %H:%M}–{end:%H:%M} with {staff} for {who}{room}"

    def _why(self, why: dict[str, float]) -> str:
        """One line a person understands: what is good about the option, and its main cost."""
        good, bad = [], []
        for term, value in why.items():
            words = _WHY.get(term)
            if words is None:
                continue
            if value >= 0 and words[0] and (term != "compact_day" or value > 0):
                good.append(words[0])
            elif value < 0:
                bad.append((value, words[1]))
        text = ", ".join(good[:2]) or "available"
        if bad:
            text += f"; but {min(bad)[1]}"
        return text

    def _option_json(self, n: int, option: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
        return {
            "option": n,
            "start": datetime.fromisoformat(option["start"]).astimezone(self.tz).isoformat(),
            "end": datetime.fromisoformat(option["end"]).astimezone(self.tz).isoformat(),
            "staff": option["staff"],
            "staff_names": [names.get(s, s) for s in option["staff"]],
            "room": option.get("room"),
            "score": option["score"],
            "why": option["why"],
            "summary": self._why(option["why"]),
        }


_WHY: dict[str, tuple[str, str]] = {
    "continuity": ("their own clinician", "not their usual clinician"),
    "preference": ("fits their preferred times", "outside their preferred times"),
    "spacing": ("no other session that day", "close to another session"),
    "compact_day": ("joins the clinician's block", "leaves a gap in the clinician's day"),
    "room_fit": ("", "a larger room than needed"),
    "acuity": ("", "later than ideal for their acuity"),
}


def _reason_in(text: str) -> str | None:
    match = re.search(r"\b(?:because|reason:?|due to)\s+(.+)$", text, re.I)
    return match.group(1).strip() if match else None


__all__ = ["Dialogue", "Reply"]
