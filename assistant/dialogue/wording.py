"""Every sentence the dialogue says, and every button label it offers: one file to translate or
to change the tone. Handlers decide what to say; this module decides how it reads.

Functions take plain values (names by id, the facility's timezone) and return text; nothing
here reads the database or the conversation state. Replies name people, rooms, groups and
session types; they show no internal id and no solver cost. The ids a person types on purpose
stay: proposal ids ("apply P-2dbeda", when several wait), rule ids in a refusal (what an
override answers to, as the packs name them) and a court's case number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from assistant.no_show import is_high
from clinic.booking import AppointmentView

Action = dict[str, str]


@dataclass(frozen=True)
class Names:
    """Display names by id: `of` for patients, staff, rooms and groups; `types` for session
    types (kept apart: a session type's id is a plain word another record could use)."""

    of: Mapping[str, str]
    types: Mapping[str, str]

    def __call__(self, record_id: str | None) -> str:
        return self.of.get(record_id or "", record_id or "")

    def all(self, ids: Sequence[str]) -> str:
        return ", ".join(self(i) for i in ids)

    def kind(self, session_type: str) -> str:
        """A session type as it reads mid-sentence ("individual psychotherapy")."""
        name = self.types.get(session_type) or words(session_type)
        return name[:1].lower() + name[1:] if name[1:2].islower() else name


def words(snake: str) -> str:
    """An identifier-like word ("dual_diagnosis") as words ("dual diagnosis")."""
    return snake.replace("_", " ")


_TOKEN = re.compile(r"[\w-]+")
_ID_AFTER_NAME = re.compile(r" \(([\w-]+)\)")
_APPOINTMENT_ID = re.compile(r"\b(?:an? )?appointment (?=[\w-]*\d)[\w-]+")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:\d{2}|Z)?")


def plain(text: str, names: Names) -> str:
    """A message from below (a rule, the solver, the booking service) with any id it quotes
    replaced by a name ("Tara Quinn (t1)" becomes "Tara Quinn"), appointment ids dropped, ISO
    times written as times (in the offset they carry: the facility's) and snake_case words
    written as words."""

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in names.of:
            return names.of[token]
        return words(token) if "_" in token else token

    text = _ID_AFTER_NAME.sub(lambda m: "" if m.group(1) in names.of else m.group(0), text)
    text = _APPOINTMENT_ID.sub("an appointment", text)
    text = _ISO_MOMENT.sub(lambda m: f"{datetime.fromisoformat(m.group(0)):%a %d %b %H:%M}", text)
    return _TOKEN.sub(one, text)


# -- the message itself -------------------------------------------------------------------------

EMPTY_MESSAGE = "say something, e.g. 'find a slot for Jamie tomorrow'"
TOO_LONG = "that message is too long (2,000 characters at most)"
INTENT_WORDS = {
    "find_slot": "find open slots",
    "book": "book an appointment",
    "cancel": "cancel an appointment",
    "reschedule": "move an appointment",
    "schedule_lookup": "see a schedule",
    "staff_unavailable": "report someone out (an absence)",
    "emergency_intake": "an emergency or walk-in assessment",
    "utilization_summary": "a utilization report",
    "compliance_report": "a compliance report",
}


def which_intent(choices: Sequence[str]) -> tuple[str, list[Action]]:
    """Ask which of two readings the person meant, rather than guess and act."""
    listed = " or ".join(f"{i}. {INTENT_WORDS.get(c, c)}" for i, c in enumerate(choices, 1))
    actions = [
        {"label": INTENT_WORDS.get(c, c).capitalize(), "message": f"option {i}"}
        for i, c in enumerate(choices, 1)
    ]
    return f"Do you want to {listed}? Reply with the number.", actions


NOT_UNDERSTOOD = (
    "I didn't catch that. Try 'find an individual slot for Jamie Rivera tomorrow "
    "afternoon', 'what's on my schedule today', 'I'm out sick today' or 'help'."
)


def cannot(reason: object, names: Names) -> str:
    return f"Sorry, I can't do that: {plain(str(reason), names)}."


def error(exc: object, names: Names) -> str:
    """A domain error's own message as a sentence."""
    text = plain(str(exc), names)
    return text[:1].upper() + text[1:] + "."


# -- which patient ------------------------------------------------------------------------------


def which_patient(candidates: Sequence[str], names: Names) -> tuple[str, list[Action]]:
    listed = " or ".join(f"{i}. {names(c)}" for i, c in enumerate(candidates, 1))
    actions = [{"label": names(c), "message": f"option {i}"} for i, c in enumerate(candidates, 1)]
    return f"Which patient — {listed}? Reply with the name or the number.", actions


def unknown_patient(words: str | None) -> str:
    return f"I don't know a patient called {words!r}. Which patient do you mean?"


WHICH_PATIENT = "Which patient is this for?"


def pick_one_to(count: int) -> str:
    return f"Please pick 1 to {count}."


# -- offering slots -----------------------------------------------------------------------------

TIME_PASSED = "That time has already passed. When should it be?"
NOTHING_ON_OFFER = "There is nothing on offer yet. Ask me for a slot first."
WIDENED = "I widened the window by a week. "


def looked_further(until: datetime, tz: ZoneInfo) -> str:
    last_day = (until - timedelta(seconds=1)).astimezone(tz)
    return f"Nothing else in that window, so I looked up to {last_day:%a %d %b}. "


EARLIEST_SAFE = "Earliest safe slots. "
DROPPED = "OK, dropped. Nothing was booked or changed."
YES_NO: list[Action] = [
    {"label": "Yes", "message": "yes"},
    {"label": "No", "message": "no"},
]


def say_back(what: str) -> str:
    """A request read with too little confidence to act on, said back before anything is done."""
    return f"Just to be sure: {what}? Reply yes or no."


def out_period(who: str, start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """ "record Dana Lee out Mon 30 Nov 08:30–end of day" (an absence not yet reported)."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    last = (end - timedelta(seconds=1)).astimezone(tz)
    until = "end of day" if (b.hour, b.minute) == (0, 0) else f"{b:%H:%M}"
    if a.date() != last.date():
        return f"record {who} out from {a:%a %d %b %H:%M} to {last:%a %d %b} {until}"
    return f"record {who} out {a:%a %d %b} {a:%H:%M}–{until}"


def _asked(session_type: str | None, needs: Sequence[str], names: Names) -> str:
    """What was asked for: "individual psychotherapy" or "... with dual diagnosis" ("a
    session" for a caller who may not see the session's type)."""
    kind = names.kind(session_type) if session_type else "a session"
    return kind + (f" with {' and '.join(words(n) for n in needs)}" if needs else "")


def no_slot(
    session_type: str | None, needs: Sequence[str], patient: str, reason: str | None, names: Names
) -> str:
    because = plain(reason, names) if reason else "nothing fits"
    return (
        f"I found no slot for {_asked(session_type, needs, names)} for {names(patient)} then: "
        f"{because}. Try a wider window, e.g. 'next week'."
    )


def options_offered(
    note: str,
    patient: str,
    session_type: str | None,
    needs: Sequence[str],
    described: Sequence[str],
    names: Names,
    *,
    nearest: bool = False,
    reason: str | None = None,
) -> tuple[str, list[Action]]:
    """The list of options (each already described) and the buttons that go with it."""
    head = note + (
        f"Nothing fits in that window ({plain(reason or '', names)}); the nearest options are:"
        if nearest
        else f"Options for {names(patient)}"
        + (f" ({_asked(session_type, needs, names)}):" if session_type or needs else ":")
    )
    lines = [head] + [f"{i}. {text}" for i, text in enumerate(described, 1)]
    others = ", ".join(str(i) for i in range(2, len(described) + 1))
    lines.append(
        "Reply 'book option 1'"
        + (f" (or {others})" if others else "")
        + ", or 'none of those' for more."
    )
    actions = [
        {"label": f"Book {i}", "message": f"book option {i}"} for i in range(1, len(described) + 1)
    ] + [
        {"label": "More options", "message": "none of those"},
        {"label": "Cancel", "message": "never mind"},
    ]
    return "\n".join(lines), actions


def option(
    start: datetime,
    end: datetime,
    staff: Sequence[str],
    room: str | None,
    names: Names,
    tz: ZoneInfo,
) -> str:
    start, end = start.astimezone(tz), end.astimezone(tz)
    where = f" in {names(room)}" if room else ""
    return f"{start:%a %d %b %H:%M}–{end:%H:%M} with {names.all(staff)}{where}"


_WHY: dict[str, tuple[str, str]] = {
    "continuity": ("their own clinician", "not their usual clinician"),
    "preference": ("fits their preferences", "not what they prefer"),
    "spacing": ("no other session that day", "close to another session"),
    "compact_day": ("joins the clinician's block", "leaves a gap in the clinician's day"),
    "room_fit": ("", "a larger room than needed"),
    "acuity": ("", "later than ideal for their acuity"),
}


def why(terms: Mapping[str, float]) -> str:
    """One line a person understands: what is good about the option, and its main cost."""
    good, bad = [], []
    for term, value in terms.items():
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


# -- confirming, booking, overriding ------------------------------------------------------------

NOTHING_TO_CONFIRM = "There's nothing to confirm. Ask me for a slot first."
NOTHING_TO_CONFIRM_ERROR = "nothing to confirm"
NOTHING_TO_OVERRIDE = "There is nothing waiting for an override."
LEFT_AS_IT_WAS = "OK, I left it as it was."
UNDO_ACTION: Action = {"label": "Undo", "message": "undo"}


def which_option(count: int) -> str:
    return f"Which option — 1 to {count}?"


def no_such_option(number: int, count: int) -> str:
    return f"There is no option {number}; pick 1 to {count}."


def no_longer_free(reason: object, names: Names) -> str:
    return f"That option is no longer free ({plain(str(reason), names)}). Here are new options. "


def appointment(a: AppointmentView, names: Names, tz: ZoneInfo, *, clinical: bool) -> str:
    """An appointment as a person reads it; its kind only for those who may see clinical detail."""
    start, end = a.start.astimezone(tz), a.end.astimezone(tz)
    who = names(a.group) if a.group else names.all(a.patients[:3])
    kind = names.kind(a.session_type) if clinical else "appointment"
    room = f" in {names(a.room)}" if a.room else ""
    return f"{kind} {start:%a %d %b %H:%M}–{end:%H:%M} with {names.all(a.staff)} for {who}{room}"


def booked(described: str, *, moved: bool) -> str:
    verb = "Moved" if moved else "Booked"
    return f"{verb}: {described}. Say 'undo' to take it back."


def denied(
    summary: object, blocking: Sequence[Mapping[str, Any]], overridable: bool, names: Names
) -> str:
    """A rule said no: each blocking rule with its id and message, and how to override."""
    lines = ["Not allowed:"] if blocking else [f"Not allowed: {plain(str(summary), names)}"]
    lines += [f"- {r.get('id')}: {plain(str(r.get('message')), names)}" for r in blocking]
    if overridable:
        lines.append("An authorized person can override it: reply 'override: <reason>'.")
    return "\n".join(lines)


# -- cancel, move, undo -------------------------------------------------------------------------

NOTHING_TO_UNDO = "There is nothing to undo in this conversation."


def no_upcoming(patient: str) -> str:
    return f"{patient} has no upcoming appointment then."


def confirm_cancel(described: str) -> tuple[str, list[Action]]:
    return f"Cancel {described}? Reply 'yes' to cancel it.", [
        {"label": "Yes, cancel", "message": "yes"},
        {"label": "Keep it", "message": "no"},
    ]


def cancelled(described: str) -> str:
    return f"Cancelled: {described}. Say 'undo' to rebook it."


def moving(described: str) -> str:
    return f"Moving {described}. "


def undone_booking(described: str) -> str:
    return f"Undone: the booking of {described} is cancelled."


def undone_move(described: str) -> str:
    return f"Undone: {described} is back at its old time."


def undone_cancel(described: str) -> str:
    return f"Undone: rebooked {described}."


# Reasons recorded in the audit log with each change, by what the conversation did.
_AUDIT_REASONS = {
    "book": "booked in conversation {conversation}",
    "move": "rescheduled in conversation {conversation}",
    "undo": "undone in conversation {conversation}",
    "cancel": "cancelled in conversation by {caller}",
    "admit": "admitted in conversation {conversation}",
    "update": "changed in conversation {conversation}",
    "close_room": "closed in conversation by {caller}",
    "attendance": "recorded in conversation {conversation} by {caller}",
    "delay": "absorbing a delay, in conversation {conversation} by {caller}",
}


def audit_reason(change: str, conversation: str, caller: str = "") -> str:
    return _AUDIT_REASONS[change].format(conversation=conversation, caller=caller)


# -- schedules and reports ----------------------------------------------------------------------


def span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    a, b = start.astimezone(tz), (end - timedelta(seconds=1)).astimezone(tz)
    if a.date() == b.date():
        return f"on {a:%a %d %b}"
    return f"from {a:%a %d %b} to {b:%a %d %b}"


def schedule(
    owner: str | None, period: str, rows: Sequence[Mapping[str, Any]], names: Names, tz: ZoneInfo
) -> str:
    """A schedule as a list: the caller's own (owner None) or a named person's or room's."""
    subject = "Your" if owner is None else f"{owner}'s"
    if not rows:
        return f"{subject} schedule is empty {period}."
    lines = [f"{subject} schedule {period}:"]
    for r in rows:
        begin = datetime.fromisoformat(r["start"]).astimezone(tz)
        who = names.all(r["patients"][:3]) if r.get("patients") else ""
        if r.get("group"):
            who = f"{names(r['group'])} ({len(r['patients'])})"
        kind = names.kind(r["session_type"]) if "session_type" in r else "appointment"
        room = names(r["room"]) if r.get("room") else "no room"
        lines.append(
            f"- {begin:%a %d %b %H:%M} {kind} with {names.all(r['staff'])}"
            f"{' for ' + who if who else ''} in {room} [{status(r['status'])}]"
            f"{session_risk_flag(r.get('no_show_risk'), names, group=bool(r.get('group')))}"
        )
    return "\n".join(lines)


def no_show_flag(risk: float | None) -> str:
    """An offered option's flag (nothing when the risk is ordinary or not the caller's to see)."""
    return f" — high no-show risk ({risk:.0%})" if risk is not None and is_high(risk) else ""


def session_risk_flag(risks: Mapping[str, float] | None, names: Names, *, group: bool) -> str:
    """An agenda line's flag: who of its patients is at high no-show risk."""
    high = [pid for pid, risk in (risks or {}).items() if is_high(risk)]
    if not high:
        return ""
    return f" — high no-show risk: {names.all(high)}" if group else " — high no-show risk"


_STATUS = {"no_show": "no-show", "late_cancelled": "late cancellation"}


def status(value: str) -> str:
    return _STATUS.get(value, words(value))


def utilization(u: Any, period: str, unmet_sessions: int, names: Names) -> list[str]:
    """The lines of a utilization summary (assistant.reports.Utilization)."""
    lines = [
        f"Utilization {period}:",
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
            + ", ".join(f"{names(r['staff'])} {r['utilization']:.0%}" for r in busiest)
        )
    dropped = sum(r.get("cancelled_not_rebooked", 0) for r in u.unmet)
    lines.append(
        f"- unmet weekly requirements: {unmet_sessions} session(s) for "
        f"{len({r['patient'] for r in u.unmet})} patient(s)"
        + (f"; {dropped} of them cancelled and not rebooked" if dropped else "")
    )
    return lines


def no_shows(n: Any, period: str, names: Names) -> list[str]:
    """The lines of a no-show summary (assistant.reports.NoShows): aggregates only."""
    if n.rate is None:
        return [f"No attendance was recorded {period}."]
    trend = ""
    if n.previous_rate is not None:
        trend = f" (the period before: {n.previous_rate:.0%})"
    lines = [
        f"No-shows {period}:",
        f"- {n.no_shows} no-show(s) against {n.attended} attended: rate {n.rate:.0%}{trend}",
        f"- late cancellations: {n.late_cancellations}",
    ]
    types = [r for r in n.by_session_type if r["rate"] is not None][:3]
    if types:
        lines.append(
            "- most missed: "
            + ", ".join(
                f"{names.kind(r['session_type'])} {r['rate']:.0%} of {r['sessions']}" for r in types
            )
        )
    days = [r for r in n.by_weekday if r["rate"] is not None]
    if len(days) > 1:
        worst, best = days[0], days[-1]
        lines.append(
            f"- worst day: {worst['weekday']} {worst['rate']:.0%}; "
            f"best: {best['weekday']} {best['rate']:.0%}"
        )
    lines.append(f"- patients who missed two or more: {n.patients_missing_twice}")
    return lines


def compliance(c: Any, names: Names) -> str:
    """Court orders behind and authorizations needing attention (assistant.reports.Compliance)."""
    behind = [r for r in c.court if not r["on_track"]]
    lines = [
        f"Court orders this week: {len(c.court) - len(behind)} on track, {len(behind)} behind."
    ]
    for r in behind[:10]:
        lines.append(
            f"- {names(r['patient'])}: {r['scheduled']} of {r['required']} "
            f"{names.kind(r['session_type'])} scheduled (case {r['case_number']})"
        )
    lines.append(f"Authorizations needing attention: {len(c.authorizations)}.")
    for r in c.authorizations[:10]:
        lines.append(f"- {names(r['patient'])} ({r['payer']}): {', '.join(r['flags'])}")
    return "\n".join(lines)


HELP = "\n".join(
    [
        "I can:",
        "- find and book slots: 'find a dual-diagnosis slot for Jamie Rivera tomorrow afternoon', then 'book option 2'",
        "- cancel or move: 'cancel Jamie Rivera's appointment tomorrow', 'move Jamie Rivera to Friday morning'",
        "- show schedules: 'what's on my schedule today', 'Dr. Raman's schedule this week'",
        "- handle absences: 'I'm out sick today', 'running 20 minutes late'",
        "- emergencies: 'emergency intake for Jamie Rivera asap'",
        "- attendance: 'Jamie checked in', 'mark my 2pm a no-show', 'Jamie is running 15 minutes late', 'all my sessions today were attended except Jamie's', 'what hasn't been marked today?'",
        "- reports: 'how was therapist utilization last week?', 'which court-ordered patients are behind?'",
        "- 'undo' reverses the last change I made in this conversation.",
    ]
)

# -- absences and proposals ---------------------------------------------------------------------

NOTHING_TO_APPROVE = "Nothing is waiting for your approval."


def absence(proposal: Mapping[str, Any], names: Names, tz: ZoneInfo) -> str:
    """A sick-call proposal (assistant.proposals): who is out, and what happens to each session."""
    if proposal.get("room"):
        return room_closed(proposal, names, tz)
    start = datetime.fromisoformat(proposal["start"]).astimezone(tz)
    end = datetime.fromisoformat(proposal["end"]).astimezone(tz)
    until = f"{end:%a %H:%M}"
    if end.time() == end.min.time():  # midnight: the end of the day before
        last = end - timedelta(days=1)
        until = (
            "the end of the day" if last.date() <= start.date() else f"the end of {last:%a %d %b}"
        )
    span = f"from {start:%a %d %b %H:%M} until {until}"
    staff = names(proposal["staff"])
    out = f"{staff} is out {span}"
    if proposal.get("departure"):  # assistant.usecases.staff.depart: no end
        out = f"{staff} leaves the facility from {start:%a %d %b %H:%M}"
    if not proposal["affected"]:
        return f"{out}: no appointments are affected."
    lines = [f"{out}: {proposal['affected']} appointment(s) affected."]

    def who(before: Mapping[str, Any]) -> str:
        return names.all(before["patients"][:2]) or names(before.get("group")) or ""

    for move in proposal["moves"]:
        b, a = move["before"], move["after"]
        when_b = datetime.fromisoformat(b["start"]).astimezone(tz)
        when_a = datetime.fromisoformat(a["start"]).astimezone(tz)
        covering = names.all(a["staff"])
        lines.append(
            f"- {when_b:%a %H:%M} {names.kind(b['session_type'])} ({who(b)}): "
            + (
                f"{covering} covers at the same time"
                if when_a == when_b
                else f"moves to {when_a:%a %d %b %H:%M} with {covering}"
            )
        )
    for item in proposal["unplaced"]:
        when_b = datetime.fromisoformat(item["before"]["start"]).astimezone(tz)
        lines.append(
            f"- {when_b:%a %H:%M} ({who(item['before'])}): "
            f"no cover found ({plain(item['reason'], names)})"
        )
    return "\n".join(lines)


def morning_plan(proposal: Mapping[str, Any], names: Names, tz: ZoneInfo) -> str:
    """The morning plan (assistant.usecases.morning_plan): the sessions it would book."""
    bookings, unmet = proposal["bookings"], proposal["unmet"]
    lines = [
        f"Morning plan for {proposal['day']}: {len(bookings)} new session(s) to book"
        + (f", {len(unmet)} request(s) left without a place." if unmet else ".")
    ]
    for b in bookings[:8]:
        when = datetime.fromisoformat(b["start"]).astimezone(tz)
        lines.append(
            f"- {when:%a %H:%M} {names.kind(b['session_type'])}: "
            f"{names.all(b['patients'])} with {names.all(b['staff'])}"
        )
    if len(bookings) > 8:
        lines.append(f"- and {len(bookings) - 8} more")
    return "\n".join(lines)


def morning_plan_applied(outcome: Mapping[str, Any]) -> str:
    return f"Applied the morning plan {outcome['id']}: {outcome['booked']} session(s) booked."


THE_DIRECTOR = "the clinical director"


def apply_or_adjust(described: str, proposal_id: str) -> tuple[str, list[Action]]:
    return described + f"\nReply 'apply' to make these changes (proposal {proposal_id}).", [
        {"label": "Apply", "message": f"apply {proposal_id}"},
        {"label": "Adjust", "message": f"adjust {proposal_id}"},
    ]


def sent_for_approval(described: str, approvers: Sequence[str], proposal_id: str) -> str:
    who = ", ".join(approvers) or THE_DIRECTOR
    return described + f"\nI've sent it to {who} for approval (proposal {proposal_id})."


def proposals_waiting(described: Sequence[tuple[str, str]]) -> tuple[str, list[Action]]:
    """(proposal id, description) pairs, each with its "Apply" button."""
    text = "\n\n".join(f"{d} (proposal {pid})" for pid, d in described)
    return text, [{"label": f"Apply {pid}", "message": f"apply {pid}"} for pid, _ in described]


def applied(outcome: Mapping[str, Any], names: Names) -> str:
    lines = [f"Applied proposal {outcome['id']}: {outcome['moved']} appointment(s) changed."]
    if outcome["unplaced"]:
        lines.append(
            f"{len(outcome['unplaced'])} could not be re-placed and stay with the absent "
            "clinician; they need a call."
        )
    for n in outcome["notify"]:
        how = f" by {words(n['channel'])}" if n.get("channel") else ""
        lines.append(
            f"- tell {names(n.get('staff') or n.get('patient'))}{how}: {n['count']} change(s)"
        )
    return "\n".join(lines)


def set_aside(proposal_id: str) -> str:
    return f"Proposal {proposal_id} set aside; nothing was changed. Adjust by hand or ask me again."


def withdrawn(proposal_id: str, staff: str) -> str:
    if not staff:  # a room's closure (assistant.usecases.rooms): the room is open again
        return (
            f"Withdrawn: the room is not closed after all (proposal {proposal_id}); its closure "
            "is removed and nothing was moved."
        )
    return (
        f"Withdrawn: {staff} is not out after all (proposal {proposal_id}); their absence is "
        "removed and nothing was moved."
    )


def adjust_menu(
    proposal_id: str,
    absent: str,
    sessions: Sequence[tuple[int, Mapping[str, Any], Sequence[str]]],
    names: Names,
    tz: ZoneInfo,
) -> tuple[str, list[Action]]:
    """Each session of a proposal (number, entry, who else could cover it), and the choices."""
    lines = [f"Adjust proposal {proposal_id}: who covers each of {absent}'s sessions."]
    actions: list[Action] = []
    for n, entry, others in sessions:
        before = entry["before"]
        when = datetime.fromisoformat(before["start"]).astimezone(tz)
        who = names.all(before["patients"][:2]) or names(before.get("group"))
        now = entry.get("after", {}).get("staff")
        covered = names.all(now) if now else "no cover yet"
        could = names.all(others) or "nobody else is free then"
        lines.append(f"{n}. {when:%a %H:%M} ({who}): {covered}; could also be: {could}")
        if others:
            first = others[0]
            actions.append(
                {
                    "label": f"{n}: {names(first)}"[:75],
                    "message": f"cover {n} with {first} {proposal_id}",
                }
            )
    lines.append(
        f"Reply 'cover N with NAME', 'withdraw {proposal_id}' if {absent} is not out after all, "
        f"or 'reject {proposal_id}' to set it aside."
    )
    actions += [
        {"label": "Withdraw absence", "message": f"withdraw {proposal_id}"},
        {"label": "Set aside", "message": f"reject {proposal_id}"},
    ]
    return "\n".join(lines), actions


def cover_chosen(staff: str, number: int) -> str:
    return f"{staff} now covers session {number}.\n"


def no_such_session(number: int, count: int) -> str:
    return f"there is no session {number} in that proposal; pick 1 to {count}"


def no_pending_proposal(proposal_id: str | None) -> str:
    return f"no proposal {proposal_id} is pending" if proposal_id else "no proposal is pending"


def unknown_staff(who: str, matches: int) -> str:
    if matches > 1:
        return f"more than one staff member is called {who!r}; give the full name"
    return f"I don't know a staff member called {who!r}"


# -- emergencies --------------------------------------------------------------------------------


NEW_PATIENT_NAME = "What is the new patient's name?"


SAME_OR_NEW: list[Action] = [
    {"label": "Same person", "message": "same"},
    {"label": "Someone else", "message": "new"},
]


def same_walk_in(existing: Mapping[str, Any], today: date, tz: ZoneInfo) -> str:
    """A walk-in who looks like a patient already in care: ask before admitting twice."""
    when = ""
    if existing.get("admitted_at"):
        at = datetime.fromisoformat(existing["admitted_at"]).astimezone(tz)
        day = "today" if at.date() == today else f"on {at:%b} {at.day}"
        when = f" admitted {day} at {at:%H:%M}"
    elif existing.get("admitted"):
        when = f" admitted on {existing['admitted']}"
    pronoun = {"f": "her", "m": "his"}.get(str(existing.get("sex") or "")[:1].lower(), "their")
    return (
        f"Is this the {existing['name']}{when} ({existing['id']})? Reply 'same' to use "
        f"{pronoun} record or 'new' to admit another."
    )


WALK_IN_AUTHORIZATION_INCOMPLETE = (
    "The authorization was not recorded: it needs the payer, the units and the end date "
    "(add it with 'add authorization for <name>, <payer>, <units> units through <date>'). "
)


def walk_in_authorization(auth: Mapping[str, Any], names: Names) -> str:
    return f"Recorded the authorization {authorization_words(auth, names)}. "


def admitted_walk_in(name: str, namesakes: int) -> str:
    also = (
        f" ({namesakes} other patient(s) have the same name: check it is not a readmission)"
        if namesakes
        else ""
    )
    return f"Admitted {name} as a new patient (phase intake){also}. "


def emergency_proposal(
    proposal: Mapping[str, Any], names: Names, tz: ZoneInfo, *, clinical: bool
) -> str:
    """An emergency's stored bump proposal (assistant.usecases.emergencies): each lower-priority
    session by its clinician and time, never by another patient's name, then the booking."""

    def at(moment: str) -> datetime:
        return datetime.fromisoformat(moment).astimezone(tz)

    def session(before: Mapping[str, Any]) -> str:
        what = names.kind(before["session_type"]) if clinical else "appointment"
        return f"{names.all(before['staff'])}'s {what} at {at(before['start']):%H:%M}"

    lines = ["To make room sooner, lower-priority sessions could move:"]
    for move in proposal["moves"]:
        before, after = move["before"], move["after"]
        other = after["staff"] != before["staff"]
        lines.append(
            f"- move {session(before)} to {at(after['start']):%a %H:%M}"
            + (f" with {names.all(after['staff'])}" if other else "")
        )
    for item in proposal["cancel"]:
        lines.append(f"- cancel {session(item['before'])} (no other time fits)")
    slot = proposal["slot"]
    room = f" in {names(slot['room'])}" if slot.get("room") else ""
    lines.append(
        f"then book {names(proposal['patient'])}'s {names.kind(proposal['session_type'])} at "
        f"{at(slot['start']):%a %H:%M} with {names.all(slot['staff'])}{room}."
    )
    return "\n".join(lines)


def approve_or_reject(described: str, proposal_id: str) -> tuple[str, list[Action]]:
    return (
        described + f"\nReply 'approve' to make these changes and book it (proposal "
        f"{proposal_id}), or 'reject {proposal_id}'.",
        [
            {"label": "Approve", "message": f"approve {proposal_id}"},
            {"label": "Reject", "message": f"reject {proposal_id}"},
        ],
    )


def emergency_applied(outcome: Mapping[str, Any], names: Names, tz: ZoneInfo) -> str:
    booked = outcome["booked"]
    when = datetime.fromisoformat(booked["start"]).astimezone(tz)
    room = f" in {names(booked['room'])}" if booked.get("room") else ""
    changed = f"{outcome['moved']} session(s) moved" + (
        f", {outcome['cancelled']} cancelled" if outcome["cancelled"] else ""
    )
    lines = [
        f"Applied proposal {outcome['id']}: {changed}; booked {names(booked['patient'])}'s "
        f"{names.kind(booked['session_type'])} at {when:%a %d %b %H:%M} with "
        f"{names.all(booked['staff'])}{room}."
    ]
    for n in outcome["notify"]:
        how = f" by {words(n['channel'])}" if n.get("channel") else ""
        lines.append(
            f"- tell {names(n.get('staff') or n.get('patient'))}{how}: {n['count']} change(s)"
        )
    return "\n".join(lines)


def emergency_waiting(
    proposal: Mapping[str, Any], names: Names, tz: ZoneInfo, *, clinical: bool
) -> str:
    """A pending emergency proposal in the list of what awaits approval."""
    return f"Emergency admission of {names(proposal['patient'])}. " + emergency_proposal(
        proposal, names, tz, clinical=clinical
    )


# -- the living record (admit, discharge, level of care, authorizations, consents) --------------

LEVEL_WORDS = {
    "0.5": "early intervention (0.5)",
    "1.0": "outpatient (OP, 1.0)",
    "2.1": "intensive outpatient (IOP, 2.1)",
    "2.5": "partial hospitalization (PHP, 2.5)",
    "3.1": "low-intensity residential (3.1)",
    "3.5": "residential (3.5)",
    "3.7-WM": "medically monitored withdrawal management (3.7-WM)",
}
RECORD_QUESTIONS = {
    "name": "What is the new patient's full name?",
    "level_of_care": "Which level of care are they admitted to (for example IOP, PHP or OP)?",
    "payer": "Which payer is the authorization from?",
    "units": "How many units did the payer authorize?",
    "end": "Through which date is the authorization (for example Jan 31)?",
    "recipient": "Who may receive the information (for example probation, court, family)?",
    "information": "What may be shared (for example attendance, schedule, treatment progress)?",
    "to": "Which facility of the network are they transferring to?",
}
RECORD_YES = [{"label": "Yes", "message": "yes"}, {"label": "No", "message": "no"}]


def level(code: str | None) -> str:
    return LEVEL_WORDS.get(code or "", f"level {code}") if code else "no level of care"


def discharge_reason(patient: str) -> str:
    return f"Why is {patient} being discharged?"


def day(value: str) -> str:
    """A YYYY-MM-DD date as 'Jan 31, 2027'."""
    d = datetime.fromisoformat(value)
    return f"{d:%b} {d.day}, {d.year}"


def authorization_words(auth: Mapping[str, Any], names: Names) -> str:
    kinds = ", ".join(names.kind(t) for t in auth.get("session_types", []))
    period = f"{day(auth['start'])} to {day(auth['end'])}" if auth.get("start") else ""
    return (
        f"{auth['payer']}: {auth['units']} units"
        + (f" of {kinds}" if kinds else "")
        + (f", {period}" if period else "")
    )


def confirm_admit(
    record: Mapping[str, Any], names: Names, existing: Mapping[str, Any] | None
) -> str:
    parts = [f"Admit {record['name']} to {level(record.get('level_of_care'))}"]
    if record.get("needs"):
        parts.append("needs " + ", ".join(words(n) for n in record["needs"]))
    if record.get("primary_clinician"):
        parts.append(f"primary clinician {names(record['primary_clinician'])}")
    for auth in record.get("authorizations", []):
        parts.append("authorization " + authorization_words(auth, names))
    text = "; ".join(parts) + "?"
    if existing:
        text += (
            f" ({existing['name']} ({existing['id']}) is already a patient with the same "
            f"{existing['matched_on']}: this admits another person.)"
        )
    return text + " Reply 'yes' to admit."


def admitted(record: Mapping[str, Any]) -> str:
    return (
        f"Admitted {record['name']} ({level(record.get('level_of_care'))}, intake phase). "
        f"Next: 'find an intake assessment for {record['name']}'."
    )


def confirm_discharge(patient: str, reason: str, sessions: Sequence[str], kept: int) -> str:
    text = f"Discharge {patient} ({reason})?"
    if sessions:
        text += (
            f" Their {len(sessions)} future session(s) will be cancelled: "
            + "; ".join(sessions)
            + "."
        )
    else:
        text += " They have no future sessions."
    if kept:
        text += f" They leave {kept} group session(s), which go on for the others."
    return text + " Reply 'yes' to discharge."


def discharged(
    patient: str, sessions: Sequence[str], told: Sequence[str], left: int, kept: Sequence[str]
) -> str:
    text = f"Discharged {patient}."
    if sessions:
        text += " Cancelled: " + "; ".join(sessions) + "."
    if left:
        text += f" Left {left} group session(s), which go on for the others."
    if kept:
        text += " Still in: " + "; ".join(kept) + "."
    if told:
        text += " To tell: " + "; ".join(told) + "."
    return text


def transfer_reason(patient: str) -> str:
    return f"Why is {patient} transferring?"


def confirm_transfer(
    patient: str, facility: str, reason: str, level_of_care: str | None, ahead: int
) -> str:
    at = f" at {level(level_of_care)}" if level_of_care else ""
    text = (
        f"Transfer {patient} to {facility}{at} ({reason})? They are admitted there with their "
        "authorizations and court order, and discharged here"
    )
    text += f"; their {ahead} future session(s) here will be cancelled." if ahead else "."
    return text + " Reply 'yes' to transfer."


def transferred(patient: str, facility: str, new_id: str, cancelled: int) -> str:
    text = f"Transferred {patient} to {facility}, where their record is {new_id}."
    if cancelled:
        text += f" Cancelled {cancelled} future session(s) here."
    return text + " Both facilities' audit logs have it."


def notice(n: Mapping[str, Any], names: Names) -> str:
    if "staff" in n:
        return f"{names(n['staff'])} ({n['count']} session(s) changed)"
    return f"{names(n['patient'])} by {n['channel']}"


def confirm_update(patient: str, changes: Mapping[str, Any]) -> str:
    said = []
    if "level_of_care" in changes:
        said.append(f"level of care to {level(changes['level_of_care'])}")
    if "phase" in changes:
        said.append(f"phase to {words(changes['phase'])}")
    return f"Change {patient}'s {' and '.join(said)}? Reply 'yes' to change it."


def updated(patient: str, record: Mapping[str, Any], names: Names) -> str:
    weekly = ", ".join(
        f"{r['per_week']} {names.kind(r['session_type'])} a week"
        for r in record.get("requirements", [])
    )
    text = f"Updated {patient}: {level(record.get('level_of_care'))}"
    if record.get("phase"):
        text += f", {words(record['phase'])} phase"
    return text + (f". Weekly requirements: {weekly}." if weekly else ".")


def confirm_authorization(patient: str, auth: Mapping[str, Any], names: Names) -> str:
    return (
        f"Add an authorization for {patient}, {authorization_words(auth, names)}? "
        "Reply 'yes' to add it."
    )


def authorization_added(patient: str, auth: Mapping[str, Any], names: Names) -> str:
    return f"Added {patient}'s authorization: {authorization_words(auth, names)}."


def confirm_consent(patient: str, consent: Mapping[str, Any]) -> str:
    until = f" until {day(consent['until'])}" if consent.get("until") else ""
    return (
        f"Record {patient}'s Part 2 consent to share {consent['information']} with "
        f"{consent['recipient']}{until}? Reply 'yes' to record it."
    )


def consent_recorded(patient: str, consent: Mapping[str, Any]) -> str:
    return f"Recorded: {patient} consents to share {consent['information']} with {consent['recipient']}."


def confirm_revoke(patient: str, recipient: str) -> str:
    return (
        f"Revoke {patient}'s consent to share with {recipient}? From today nothing about "
        f"{patient} goes to {recipient}. Reply 'yes' to revoke it."
    )


def consent_revoked(patient: str, recipient: str) -> str:
    return f"Revoked: nothing about {patient} goes to {recipient} from now on."


def record_refused(exc: Any, names: Names) -> str:
    """A record the facility file's checks refused: each problem, and nothing written."""
    problems = list(getattr(exc, "problems", []) or [])
    text = error(exc, names).rstrip(".")
    if problems:
        text += ": " + "; ".join(plain(p, names) for p in problems)
    return text + ". Nothing was written."


# --- groups and rooms (assistant.dialogue.handlers.groups_rooms) --------------------------------


def which_group(words_: str, found: Sequence[Mapping[str, Any]]) -> str:
    if not found:
        return f"I don't know a group called '{words_}'. Say its name as the schedule shows it."
    listed = "; ".join(f"{g['name']} ({g['id']})" for g in found[:5])
    return f"Which group do you mean: {listed}? Say its name in full."


def which_patient_for(action: str) -> str:
    verb = "add to" if action == "enroll" else "take out of"
    return f"Which patient should I {verb} the group? Say their full name."


def confirm_enrol(
    patient: str, group: Mapping[str, Any], *, join: bool
) -> tuple[str, list[Action]]:
    size = f"{len(group['members'])} member(s)" + (
        f", {group['capacity']} places" if group.get("capacity") else ""
    )
    if join:
        text = f"Add {patient} to {group['name']} ({size})? Reply 'yes' to enrol them."
        return text, [{"label": "Yes, enrol", "message": "yes"}, {"label": "No", "message": "no"}]
    text = f"Take {patient} out of {group['name']} ({size})? Reply 'yes' to remove them."
    return text, [{"label": "Yes, remove", "message": "yes"}, {"label": "No", "message": "no"}]


def enrolled(
    patient: str, group: Mapping[str, Any], changed: int, unchanged: int, *, join: bool
) -> str:
    count = len(group["members"])
    if join:
        text = f"Done: {patient} is now a member of {group['name']} ({count} members)"
        text += f" and joins its {changed} booked session(s) ahead."
        if unchanged:
            text += f" {unchanged} session(s) clash with their schedule or a rule: check them."
        return text
    text = f"Done: {patient} is no longer in {group['name']} ({count} members)"
    text += f" and leaves its {changed} booked session(s) ahead."
    if unchanged:
        text += f" They are still in {unchanged} session(s) I could not change: check them."
    return text


def confirm_closure(
    room: str, start: datetime, end: datetime, tz: ZoneInfo
) -> tuple[str, list[Action]]:
    text = (
        f"Close {room} {_period_words(start, end, tz)}? Sessions booked there will be proposed "
        "elsewhere. Reply 'yes' to close it."
    )
    return text, [{"label": "Yes, close it", "message": "yes"}, {"label": "No", "message": "no"}]


def room_closed(proposal: Mapping[str, Any], names: Names, tz: ZoneInfo) -> str:
    """A room closure's proposal: the period, and where each of its sessions goes."""
    start = datetime.fromisoformat(proposal["start"]).astimezone(tz)
    end = datetime.fromisoformat(proposal["end"]).astimezone(tz)
    room = names(proposal["room"])
    head = f"{room} is closed {_period_words(start, end, tz)}"
    if not proposal["affected"]:
        return f"{head}: no appointments are affected."
    lines = [f"{head}: {proposal['affected']} appointment(s) affected."]

    def who(before: Mapping[str, Any]) -> str:
        return names.all(before["patients"][:2]) or names(before.get("group")) or ""

    for move in proposal["moves"]:
        b, a = move["before"], move["after"]
        when_b = datetime.fromisoformat(b["start"]).astimezone(tz)
        when_a = datetime.fromisoformat(a["start"]).astimezone(tz)
        where = names(a["room"]) if a.get("room") else "telehealth"
        lines.append(
            f"- {when_b:%a %H:%M} {names.kind(b['session_type'])} ({who(b)}): "
            + (
                f"moves to {where}"
                if when_a == when_b
                else f"moves to {when_a:%a %d %b %H:%M} in {where}"
            )
        )
    for item in proposal["unplaced"]:
        when_b = datetime.fromisoformat(item["before"]["start"]).astimezone(tz)
        lines.append(
            f"- {when_b:%a %H:%M} ({who(item['before'])}): no other place found "
            f"({plain(item['reason'], names)})"
        )
    return "\n".join(lines)


def _period_words(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    start, end = start.astimezone(tz), end.astimezone(tz)
    midnight = end.min.time()
    if start.time() == midnight and end.time() == midnight:
        last = end - timedelta(days=1)
        if last.date() == start.date():
            return f"on {start:%a %d %b}"
        return f"from {start:%a %d %b} to {last:%a %d %b}"
    return f"from {start:%a %d %b %H:%M} until {end:%a %d %b %H:%M}"


# -- attendance ---------------------------------------------------------------------------------

_MARKED = {
    "check_in": "Checked in",
    "attended": "Marked attended",
    "no_show": "Marked a no-show",
    "late_cancel": "Recorded a late cancellation of",
}
_MARK_WORDS = {
    "check_in": "checked in",
    "attended": "attended",
    "no_show": "a no-show",
    "late_cancel": "a late cancellation",
}
YES_NO: list[Action] = [
    {"label": "Yes", "message": "yes"},
    {"label": "No", "message": "no"},
]
HOW_LATE = "How many minutes? Say e.g. 'Jamie is running 15 minutes late'."


def session(
    a: AppointmentView,
    names: Names,
    tz: ZoneInfo,
    *,
    clinical: bool,
    patient: str | None = None,
) -> str:
    """A session for attendance: the patient concerned (or its patients; a group's name and the
    session's kind only for those who may see clinical detail), time, clinician and room."""
    start, end = a.start.astimezone(tz), a.end.astimezone(tz)
    if patient:
        who = names(patient)
    elif a.group and clinical:
        who = names(a.group)
    else:
        more = len(a.patients) - 3
        who = names.all(a.patients[:3]) + (f" and {more} more" if more > 0 else "")
    kind = f" {names.kind(a.session_type)}" if clinical else ""
    room = f" in {names(a.room)}" if a.room else ""
    return f"{who}:{kind} {start:%a %d %b %H:%M}–{end:%H:%M} with {names.all(a.staff)}{room}"


def marked(action: str, described: str) -> str:
    return f"{_MARKED[action]} {described}."


def confirm_mark(action: str, described: str) -> tuple[str, list[Action]]:
    return f"Record {_MARK_WORDS[action]} for {described}? Reply 'yes' to record it.", YES_NO


def which_session(described: Sequence[str]) -> tuple[str, list[Action]]:
    lines = ["Which session?"] + [f"{i}. {d}" for i, d in enumerate(described, 1)]
    lines.append("Reply with the number.")
    actions = [{"label": str(i), "message": f"option {i}"} for i in range(1, len(described) + 1)]
    return "\n".join(lines), actions


def no_session_to_mark(action: str, who: str, day: str) -> str:
    if action in ("running_late", "running_over"):
        return f"I found no booked or checked-in session for {who} on {day}."
    return f"I found no session for {who} on {day} that can be marked {_MARK_WORDS[action]}."


def group_marked_whole(described: str) -> str:
    return (
        f"{described} is a group session, and a group session is marked as a whole; I left it "
        "as it was. Mark it by its time (e.g. 'mark my 3:30 attended') once it is held."
    )


def day_plan(
    action: str,
    marks: Sequence[tuple[str, str]],
    left: Sequence[tuple[str, str]],
    sessions: int | None = None,
) -> tuple[str, list[Action]]:
    """The question before a whole day is marked: each session (or group member: `sessions`
    then counts the sessions) and what it gets."""
    lines = [f"Record these {len(marks) if sessions is None else sessions} session(s) at once?"]
    lines += [f"- {d}: {_MARK_WORDS[a]}" for d, a in marks]
    if left:
        lines.append("Left unmarked:")
        lines += [f"- {d} ({why})" for d, why in left]
    lines.append("Reply 'yes' to record them all, or 'no'.")
    return "\n".join(lines), YES_NO


def day_marked(count: int, left: int) -> str:
    tail = f"; {left} left unmarked" if left else ""
    return f"Recorded {count} session(s){tail}."


NOTHING_TO_MARK = "There is nothing to mark: no session that has started and is still open."


def unmarked(described: Sequence[str], whose: str) -> str:
    if not described:
        return f"Everything that has started is marked ({whose})."
    lines = [f"Not marked yet ({whose}, {len(described)}):"]
    lines += [f"- {d}" for d in described]
    return "\n".join(lines)


def knock_on(
    late: str,
    kind: str,
    minutes: int,
    runs: str,
    effects: Sequence[str],
    ways: Sequence[str],
) -> tuple[str, list[Action]]:
    """A delay's effect on the rest of the day, and the ways to absorb it (numbered)."""
    said = f"running {minutes} min late" if kind == "late" else f"running {minutes} min over"
    lines = [f"{late} is {said}; at full length it runs {runs}."]
    if effects:
        lines.append("That runs into:")
        lines += [f"- {e}" for e in effects]
    else:
        lines.append(
            "Nothing later that day shares its clinician or room closely enough to feel it."
        )
    lines.append("Ways to absorb it:")
    lines += [f"{i}. {w}" for i, w in enumerate(ways, 1)]
    lines.append("Reply with the number; nothing changes until you do.")
    actions = [{"label": f"Way {i}", "message": f"option {i}"} for i in range(1, len(ways) + 1)]
    return "\n".join(lines), actions


def effect(described: str, shares: str, gap_before: int, gap_after: int) -> str:
    if gap_after < 0:
        return f"{described} (shares {shares}): overlaps by {-gap_after} min"
    return f"{described} (shares {shares}): {gap_after} min between them, was {gap_before}"


def way_shorten(runs: str) -> str:
    return f"Shorten it to {runs} (it ends as booked); nothing else moves."


def way_push(
    moved: Sequence[str], fits: bool, problem: str | None, not_yours: str | None, names: Names
) -> str:
    text = "Run it in full and move " + (
        "nothing else" if not moved else f"{len(moved)} later session(s): " + "; ".join(moved)
    )
    if not fits:
        text += f" (does not fit now: {plain(str(problem), names)})"
    elif not_yours:
        text += (
            f" (it fits, but you may not make these moves: {plain(not_yours, names)}; pick it "
            "to send it to the front desk or a director to apply)"
        )
    return text + "."


def knock_on_proposal(proposal: Mapping[str, Any], names: Names, tz: ZoneInfo) -> str:
    """A stored push (assistant.usecases.knock_on): the session run in full and each session
    moved later, by clinician and time (never by another patient's name)."""
    first, *later = proposal["moves"]
    delay = proposal["delay"]
    end = datetime.fromisoformat(first["after"]["end"]).astimezone(tz)
    start = datetime.fromisoformat(first["before"]["start"]).astimezone(tz)
    lines = [
        f"{names.all(first['before']['staff'])}'s session at {start:%a %H:%M} is running "
        f"{delay['kind']} by {delay['minutes']} min: run it in full to {end:%H:%M}"
    ]
    for m in later:
        was = datetime.fromisoformat(m["before"]["start"]).astimezone(tz)
        to = datetime.fromisoformat(m["after"]["start"]).astimezone(tz)
        lines.append(
            f"- move {names.all(m['before']['staff'])}'s session at {was:%H:%M} to {to:%H:%M}"
        )
    return "\n".join(lines)


SHORTENED = "OK: the session ends as booked; nothing else moves."


def moved_for_delay(described: Sequence[str]) -> str:
    return "Done. " + "; ".join(described) + "."


# -- recurring series (assistant.dialogue.handlers.series) ---------------------------------------

_WEEKDAY_WORDS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
SERIES_WHOSE = (
    "whose series? Name the patient, e.g. 'book Jamie with Dana every Tuesday at 2 pm for 8 "
    "weeks' or 'cancel Jamie's Tuesday sessions with Dana from Dec 15 on'"
)
SERIES_WITH_WHOM = (
    "with whom? Name the clinician, e.g. 'book Jamie with Dana every Tuesday at 2 pm for 8 weeks'"
)
SERIES_WHAT_TIME = "at what time? e.g. 'every Tuesday at 2 pm for 8 weeks'"
SERIES_HOW_LONG = "for how long? Say 'for 8 weeks' or 'until Jan 31'"
SERIES_UNTIL_UNCLEAR = "until when? Say a day, e.g. 'until Jan 31'"
SERIES_NEW_TIME = "to what time? e.g. 'move Jamie's Tuesday sessions with Dana to 3 pm'"


def series_days(days: Sequence[date]) -> str:
    return ", ".join(f"{d:%a %d %b}" for d in days)


def series_pattern(weekday: str, time: str) -> str:
    return f"every {_WEEKDAY_WORDS.get(weekday, weekday)} at {time}"


def series_failures(failed: Sequence[Any], names: Names) -> str:
    """Each failing week in plain words: "Tue 15 Dec: Dana Reyes is unavailable … (leave)"."""
    return "\n".join(f"- {plain(f.words(), names)}" for f in failed)


def confirm_series_book(
    who: str, staff: str, pattern: str, days: Sequence[date], failed: Sequence[Any], names: Names
) -> tuple[str, list[Action]]:
    head = f"Book {who} with {staff} {pattern}, {len(days)} session(s): {series_days(days)}."
    if not failed:
        return head + f" Reply 'yes' to book all {len(days)}.", [
            {"label": f"Yes, book all {len(days)}", "message": "yes"},
            {"label": "No", "message": "no"},
        ]
    rest = len(days) - len(failed)
    text = (
        f"{head}\n{len(failed)} of them cannot be booked, so nothing is booked yet:\n"
        f"{series_failures(failed, names)}\n"
    )
    if not rest:
        return text + "None of the weeks fits; try another time or clinician.", []
    return text + f"Reply 'yes' to book the other {rest} and skip those.", [
        {"label": f"Book the other {rest}", "message": "yes"},
        {"label": "No", "message": "no"},
    ]


def series_booked(count: int, skipped: Sequence[Any], names: Names) -> str:
    text = f"Booked {count} session(s) of the series."
    if skipped:
        text += f" Skipped:\n{series_failures(skipped, names)}"
    return text


def series_refused(failed: Sequence[Any], names: Names) -> str:
    return f"Nothing was changed: these weeks no longer fit:\n{series_failures(failed, names)}"


def which_series(found: Sequence[Mapping[str, Any]], names: Names) -> str:
    if not found:
        return "I found no weekly series for that patient."
    listed = "; ".join(
        f"{series_pattern(s['weekday'], s['time'])} with {names(s['staff'])}" for s in found
    )
    return f"Which series? There are {len(found)}: {listed}. Name the weekday or the clinician."


def confirm_series_cancel(
    who: str, staff: str, pattern: str, days: Sequence[date]
) -> tuple[str, list[Action]]:
    text = (
        f"Cancel {len(days)} session(s) of {who}'s series with {staff} ({pattern}): "
        f"{series_days(days)}? Reply 'yes' to cancel them."
    )
    return text, [{"label": "Yes, cancel them", "message": "yes"}, {"label": "No", "message": "no"}]


def confirm_series_move(
    who: str, staff: str, pattern: str, days: Sequence[date], time: str
) -> tuple[str, list[Action]]:
    text = (
        f"Move {len(days)} session(s) of {who}'s series with {staff} ({pattern}) to {time}: "
        f"{series_days(days)}? Reply 'yes' to move them."
    )
    return text, [{"label": "Yes, move them", "message": "yes"}, {"label": "No", "message": "no"}]


def series_cancelled(count: int) -> str:
    return f"Cancelled {count} session(s) of the series; the patient gets one notice."


def series_moved(count: int, time: str) -> str:
    return f"Moved {count} session(s) of the series to {time}; the patient gets one notice."


SERIES_NOTHING_LEFT = "No session of that series is still to come: nothing to change."


# -- emergency access (break the glass) ---------------------------------------------------------

OPEN_HOW = (
    "To open a patient outside your caseload in an emergency, say "
    "'open Jamie Rivera — reason: crisis call from the patient'."
)


def opened(name: str, record: Mapping[str, Any], names: Names, schedule_text: str) -> str:
    """A patient opened in an emergency: the record's essentials, then their schedule."""
    facts = []
    if record.get("primary_clinician"):
        facts.append(f"primary clinician {names(record['primary_clinician'])}")
    if record.get("level_of_care"):
        facts.append(f"level of care {record['level_of_care']}")
    if record.get("phase"):
        facts.append(f"phase {str(record['phase']).replace('_', ' ')}")
    about = f" ({', '.join(facts)})" if facts else ""
    return (
        f"Emergency access: you opened {name}{about}. Your reason is in the audit log and goes "
        f"to the clinical director in tomorrow's morning report.\n{schedule_text}"
    )
