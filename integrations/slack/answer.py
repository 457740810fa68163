"""From one Slack request to the messages it owes: who is asking, what the dialogue answers,
where each part may go (PRIV-10), and which messages carry patient data (for the audit).

Runs in a worker thread: the dialogue and the solver are synchronous and CPU-bound.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime
from typing import Any

from assistant import callers, gate, slack_store
from assistant.access import may
from assistant.conversation import read_state
from assistant.dialogue import Dialogue, Reply
from assistant.outbox import SlackMessage
from assistant.parse import parse
from assistant.slack_store import Job
from assistant.usecases import AppointmentView, absences, appointments
from clinic.db import Database
from clinic.errors import NotFound, RotaError
from clinic.tokens import Caller
from integrations.slack import privacy, render
from integrations.slack.privacy import is_private

_LINK = re.compile(r"<([@#!]?)([^>|]+)(?:\|([^>]*))?>")
_APPLIED = re.compile(r"\bApplied proposal (P-[0-9a-f]+)")


def conversation_id(slack_user: str, channel: str, staff_id: str) -> str:
    """Stable per (Slack user, channel or DM) and staff member, so follow-ups and buttons reach
    the same dialogue state; opaque, so it says nothing about who or where."""
    digest = hashlib.sha256(f"{slack_user}:{channel}:{staff_id}".encode()).hexdigest()
    return f"slack-{digest[:32]}"


class Answerer:
    def __init__(self, db: Database, dialogue: Dialogue) -> None:
        self.db = db
        self.dialogue = dialogue

    # -- the entry point -----------------------------------------------------------------------

    def answer(self, job: Job) -> list[SlackMessage]:
        p = job.payload
        caller = callers.for_slack_user(self.db, job.slack_user)
        if caller is None:
            return self._refuse(job)
        if job.kind == "mention" and p.get("shared"):
            return [_ephemeral(job, privacy.SHARED_CHANNEL)]
        if job.kind == "action":
            return self._press(job, caller)
        text = self._plain(p.get("text", ""))
        channel = job.channel or ""
        cid = conversation_id(job.slack_user, channel, caller.staff_id)
        if not text:
            text = "help"
        reply = self._ask(caller, text, cid)
        out: list[SlackMessage] = []
        if job.kind == "mention" and not is_private(channel):
            out.append(_ephemeral(job, privacy.SENT_TO_DM))
        where = channel if job.kind == "message" and is_private(channel) else None
        out.append(self._reply_message(job.slack_user, caller, reply, where))
        out += self._notifications(caller, reply)
        return out

    # -- the parts -----------------------------------------------------------------------------

    def _refuse(self, job: Job) -> list[SlackMessage]:
        slack_store.refused(self.db, job.slack_user, job.kind, _channel_type(job.channel))
        if job.kind == "command":
            return []  # the acknowledgement already said so
        if job.kind == "message" and is_private(job.channel):
            return [
                SlackMessage(
                    "chat.postMessage", job.slack_user, job.channel, {"text": privacy.UNKNOWN_USER}
                )
            ]
        return [_ephemeral(job, privacy.UNKNOWN_USER)]

    def _ask(self, caller: Caller, text: str, cid: str) -> Reply:
        try:
            frame = parse(
                text,
                roster=self.dialogue.roster(),
                now=self.dialogue.clock(),
                actor=caller.staff_id,
            )
            refused = gate.refusal(caller, frame)
            if refused:
                return Reply(cid, refused, refused=True)
            return self.dialogue.handle(caller, text, cid)
        except RotaError as exc:  # e.g. an empty or over-long message: a sentence, not a crash
            message = str(exc)
            return Reply(cid, message[:1].upper() + message[1:] + ".")

    def _press(self, job: Job, caller: Caller) -> list[SlackMessage]:
        p = job.payload
        value = render.decode(p.get("value"))
        channel, ts = job.channel or "", p.get("message_ts")
        cid = value.get("c") or conversation_id(job.slack_user, channel, caller.staff_id)
        if p.get("action_id") == "rota_cancel":
            return [self._update(job, caller, channel, ts, Reply(cid, privacy.CANCELLED))]
        message = value.get("m")
        if not message:
            return []
        if value.get("f") and not self._still_offered(caller, cid, message, value["f"]):
            return [self._update(job, caller, channel, ts, Reply(cid, privacy.STALE_OPTIONS))]
        reply = self._ask(caller, message, cid)
        return [self._update(job, caller, channel, ts, reply), *self._notifications(caller, reply)]

    def _still_offered(self, caller: Caller, cid: str, message: str, fingerprint: str) -> bool:
        """The option a "Book" button showed is still the one the dialogue would book."""
        match = re.search(r"(\d+)$", message)
        try:
            state = read_state(self.db, cid, caller.staff_id)
        except NotFound:
            return False
        options = state.get("options") or []
        if not match or not 1 <= int(match.group(1)) <= len(options):
            return False
        option = options[int(match.group(1)) - 1]
        start, _, staff = fingerprint.partition("|")
        try:
            same_time = datetime.fromisoformat(option["start"]) == datetime.fromisoformat(start)
        except (KeyError, ValueError):
            return False
        return same_time and ",".join(option.get("staff") or []) == staff

    def _update(
        self, job: Job, caller: Caller, channel: str, ts: str | None, reply: Reply
    ) -> SlackMessage:
        if not (ts and is_private(channel)):
            # Buttons only ever go to DMs; anything else gets its answer in the DM.
            return self._reply_message(job.slack_user, caller, reply, None)
        message = self._reply_message(job.slack_user, caller, reply, channel)
        message.method = "chat.update"
        message.payload["ts"] = ts
        return message

    def _reply_message(
        self, slack_user: str, caller: Caller, reply: Reply, channel: str | None
    ) -> SlackMessage:
        """The dialogue's reply for the asker's DM (channel None: open it when sending)."""
        patients = set(self._scan().patients_in(reply.reply))
        if reply.refused:  # the asker's words back to them: not a read, kept off previews
            payload = {
                "text": privacy.NEUTRAL_PREVIEW if patients else reply.reply[:3000],
                "blocks": render.reply_blocks(reply, render.render_id(), reply.conversation_id),
            }
            return SlackMessage(
                "chat.postMessage", slack_user, channel, payload, template=privacy.REFUSAL
            )
        frame_patient = ((reply.frame or {}).get("patient") or {}).get("id")
        if frame_patient and reply.options:
            patients.add(frame_patient)
        appointments = sorted(set(reply.appointments))
        blocks = render.reply_blocks(reply, render.render_id(), reply.conversation_id)
        carries = bool(patients or appointments)
        payload = {
            "text": privacy.NEUTRAL_PREVIEW if carries else reply.reply[:3000],
            "blocks": blocks,
        }
        audit = _audit(caller, "im", sorted(patients), appointments) if carries else None
        return SlackMessage("chat.postMessage", slack_user, channel, payload, audit)

    def _notifications(self, sender: Caller, reply: Reply) -> list[SlackMessage]:
        """What the dialogue says others must be told, as DMs to those on Slack."""
        staff_notes = [n for n in reply.notify if n.get("staff")]
        users = callers.slack_users(self.db, sorted({n["staff"] for n in staff_notes}))
        applied = _APPLIED.search(reply.reply)
        proposal = self._proposal(applied.group(1)) if applied else None
        out = []
        for note in staff_notes:
            user = users.get(note["staff"])
            if not user:
                continue  # not on Slack: the reply to the sender already names them
            recipient = self._caller(note["staff"])
            if recipient is None:
                continue
            if note.get("kind") == "approval_needed":
                out.append(self._approval(user, recipient, note))
            elif note.get("kind") == "schedule_changed":
                out.append(self._changes(user, recipient, sender, note, proposal))
        return out

    def _approval(self, user: str, recipient: Caller, note: dict[str, Any]) -> SlackMessage:
        pid = str(note.get("proposal", ""))
        text = str(note.get("text", ""))
        payload = self._proposal(pid) or {}
        appointments = sorted(
            {m["appointment"] for m in payload.get("moves", [])}
            | {u["appointment"] for u in payload.get("unplaced", [])}
        )
        patients = set(self._scan().patients_in(text))
        for m in [*payload.get("moves", []), *payload.get("unplaced", [])]:
            patients.update(m["before"].get("patients") or [])
        if payload.get("patient"):  # an emergency's: the patient it makes room for
            patients.add(payload["patient"])
        # an emergency's or a knock-on's is apply or reject (no covers to adjust)
        adjustable = note.get("proposal_kind") not in ("emergency", "knock_on")
        blocks = render.approval_blocks(pid, text, render.render_id(), adjustable=adjustable)
        return SlackMessage(
            "chat.postMessage",
            user,
            None,
            {"text": "Rota: a schedule change needs your approval.", "blocks": blocks},
            _audit(recipient, "im", sorted(patients), appointments),
            template="slack_approval",
        )

    def _changes(
        self,
        user: str,
        recipient: Caller,
        sender: Caller,
        note: dict[str, Any],
        proposal: dict[str, Any] | None,
    ) -> SlackMessage:
        """Each affected clinician's own changes: time, room and patient, and the session type
        only for roles that may see clinical detail (minimum necessary)."""
        tz = self.db.facility_tz()
        names = self._names()
        moves = {m["appointment"]: m for m in (proposal or {}).get("moves", [])}
        lines = [f"Your schedule changed ({sender.name} approved it):"]
        patients: set[str] = set()
        ids = list(note.get("appointments") or [])
        for aid in ids:
            try:
                now = appointments.current(self.db, aid)
            except NotFound:
                continue
            patients.update(now.patients)
            lines.append("- " + self._change_line(recipient, now, moves.get(aid), names, tz))
        return SlackMessage(
            "chat.postMessage",
            user,
            None,
            {"text": privacy.NEUTRAL_PREVIEW, "blocks": render.text_blocks("\n".join(lines))},
            _audit(recipient, "im", sorted(patients), sorted(ids)),
            template="slack_changes",
        )

    def _change_line(
        self,
        recipient: Caller,
        now: AppointmentView,
        move: dict[str, Any] | None,
        names: dict[str, str],
        tz: Any,
    ) -> str:
        kind = (
            now.session_type.replace("_", " ")
            if may(recipient, "see_clinical_detail")
            else "appointment"
        )
        who = ", ".join(names.get(p, p) for p in now.patients[:3])
        if now.group:
            who = f"group ({len(now.patients)})"
        room = room_of(now, names)
        when = f"{now.start.astimezone(tz):%a %d %b %H:%M}–{now.end.astimezone(tz):%H:%M}"
        if now.status in ("cancelled", "late_cancelled"):  # a discharge's, say
            return f"{kind} {when}{room_of(now, names)} for {who}: cancelled"
        before = (move or {}).get("before") or {}
        was_mine = recipient.staff_id in (before.get("staff") or [])
        mine = recipient.staff_id in now.staff
        others = ", ".join(names.get(s, s) for s in now.staff if s != recipient.staff_id)
        if was_mine and not mine:
            return f"{kind} {when} for {who}: no longer yours ({others} covers)"
        moved = ""
        if before.get("start") and datetime.fromisoformat(before["start"]) != now.start:
            old = datetime.fromisoformat(before["start"]).astimezone(tz)
            moved = f" (moved from {old:%a %d %b %H:%M})"
        lead = "you now take" if mine and not was_mine else "yours"
        return f"{kind} {when}{room} for {who}: {lead}{moved}"

    # -- helpers -------------------------------------------------------------------------------

    def _plain(self, text: str) -> str:
        """Slack's markup to plain words: <@U…> becomes the staff member's name, links their label."""

        def swap(match: re.Match[str]) -> str:
            sigil, target, label = match.groups()
            if sigil == "@":
                member = callers.for_slack_user(self.db, target)
                return member.name if member else ""
            return label or ("" if sigil == "!" else target)

        return html.unescape(_LINK.sub(swap, text)).strip()

    def _scan(self) -> privacy.Scanner:
        return privacy.scanner(self.dialogue.roster())

    def _names(self) -> dict[str, str]:
        roster = self.dialogue.roster()
        return {
            e.id: e.name for group in (roster.patients, roster.staff, roster.rooms) for e in group
        }

    def _caller(self, staff_id: str) -> Caller | None:
        try:
            return callers.for_staff(self.db, staff_id, "slack")
        except NotFound:
            return None

    def _proposal(self, proposal_id: str) -> dict[str, Any] | None:
        return absences.payload_of(self.db, proposal_id)


def _ephemeral(job: Job, text: str) -> SlackMessage:
    return SlackMessage("chat.postEphemeral", job.slack_user, job.channel, {"text": text})


def _channel_type(channel: str | None) -> str:
    return "im" if is_private(channel) else "channel"


def _audit(
    recipient: Caller, channel_type: str, patients: list[str], appointments: list[str]
) -> dict[str, Any]:
    return {
        "recipient": recipient.staff_id,
        "channel_type": channel_type,
        "patients": patients,
        "appointments": appointments,
    }


def room_of(appointment: AppointmentView, names: dict[str, str]) -> str:
    return f" in {names.get(appointment.room, appointment.room)}" if appointment.room else ""
