"""The deterministic parser: message + actor + now → request frame (request-frame.schema.json).

Extractors run in a fixed order over the lowercase text and each records the characters it used
(option numbers, durations, rooms, session types, specializations, metrics, times, names, intent
cues), so no word is read twice. The share of meaningful words used is the confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from assistant.parse import attendance, groups_rooms, intents, records, series, times, waitlist
from assistant.parse import lexicon as lx
from assistant.parse.names import (
    NameHit,
    NameIndex,
    Token,
    common_words,
    gazetteer,
    index_for,
    nicknames,
    norm,
    tokenize,
)
from assistant.roster import Roster
from clinic.timeutil import zone

_SESSION = lx.compile_table(lx.SESSION_TYPES)
_NEEDS = lx.compile_table(lx.NEEDS)
_METRICS = lx.compile_table(lx.METRICS)
_CUES = lx.compile_table(lx.INTENT_CUES)
_WORD_RE = re.compile(r"[a-z0-9][a-z0-9']*")
_STAFF_CONTEXT = frozenset(
    [
        "with",
        "w",
        "see",
        "seeing",
        "by",
        "dr",
        "doctor",
        "therapist",
        "counselor",
        "counsellor",
        "clinician",
        "provider",
        "prescriber",
        "psychiatrist",
        "nurse",
        "np",
        "cm",
        "is",
        "has",
    ]
)
_PATIENT_CONTEXT = frozenset(["for", "pt", "patient", "client", "member", "resident"])
_SELF = re.compile(r"(?<![\w'])(i'm|im|i'll|i've|i|me|my|myself)(?![\w'])")
_SELF_INTENTS = frozenset({"staff_unavailable", "schedule_lookup", "cancel", "reschedule"})
_BOOK_IT = re.compile(r"\b(?:book|schedule|lock)\s+(?:it|that|them|those)\b")
# "no, don't book that", "not option 2": a message that opens by refusing the pick (not "book
# the 3pm, not the 4pm", which makes one).
_NEGATED_PICK = re.compile(
    r"^\W*(?:(?:no|nah|nope)\W+)?(?:please\s+|pls\s+)?(?:don'?t|do\s+not|not|never)\s+"
    r"(?:(?:book|take|want|do|pick|schedule)\s+)?(?:it|that|this|them|those|option|opt|#|\d|the)\b"
)
# A letter outside the masked names: the message says something besides who.
_WORD_BESIDES_NAMES = re.compile(r"(?!NAME\b)\b[^\W\d_]")
# A refusal of what was offered, with or without its reason ("none of those, I'm out those
# days", "nah too late for him", "not option 1 or 2"): the reason is not a new request. Opening a
# message ("no, ...", "neither works", "any later?") or in so many words anywhere ("said no to all
# three", "can't do either"); never "no-show", "no need for", "no group thursday".
_REFUSAL_OPENING = re.compile(
    r"^\W*(?:(?:ugh|hmm+|sorry|ok|okay|um+|oh)\W+)?"
    r"(?:no|nah|nope|declined?|neither|none|not\s+(?:those|these|that\s+one|them|option|opt|#?\d)"
    r"|can'?t\s+do\s+(?:either|any|those|them|that)|scratch\s+that"
    r"|any(?:thing)?\s+(?:later|earlier)|nothing\s+(?:later|earlier|else)|too\s+(?:early|late)"
    r"|wrong\s+(?:days?|times?))\b"
    r"(?![-\s]?shows?\b)(?!\s+(?:need|problem|worries|group|groups|session|sessions|class)\b)"
    r"(?!\W+(?:wait|actually|i\s+mean|make\s+it)\b)"  # "no wait, thursday" corrects a request
)
_REFUSAL = re.compile(
    r"\bnone\s+of\s+(?:those|these|them|the)\b|\bneither\s+(?:\w+\s+)?(?:works?|of|one)\b"
    r"|\bdecline\s+(?:those|these|them|all|both|the\s+(?:options|slots|times))\b"
    r"|\b(?:say|said)\s+no\s+to\b|\bno\s+to\s+(?:all|those|these|both|either)\b"
    r"|\b(?:those|these|they|both|all)\s+(?:are|r)\s+(?:all\s+)?(?:\w+\s+)?too\s+(?:early|late)\b"
    r"|\bno\s+option\s+works|\b(?:can'?t|cannot)\s+do\s+(?:either|any\s+of|those|these)\b"
    r"|\b(?:don'?t|do\s+not)\s+book\s+(?:any(?:thing|\s+of)|those|these|them)\b"
    # ...but "don't book anything before noon" blocks time (an absence)
    r"(?!\s+(?:before|after|until|till|til|on|for|with|in|from|between)\b)"
)
_LATE_BY = re.compile(r"\b(?:late|behind)[\s,]+(?:by\s+)?(?:about\s+|like\s+|~\s*|around\s+)?$")
_WITHIN = re.compile(r"\b(?:in|within|(?:for|in|within)\s+the\s+next)\s+$")
_LATE_AFTER = re.compile(r"\s*(?:late|behind)\b")
_DECLINE_ONLY = re.compile(r"\b(?:cancel\s+that|never\s*mind|nvm|forget\s+it)\b")
_NOT_SELF = re.compile(r"\b(?:show|tell|give|find|get|let|send|remind)\s+me$")
_POSSESSIVE_OUT = re.compile(r"'s\s+(?:out|off|away|unavailable|gone|sick)\b")
# A walk-in asking for a medication or an examination is still an emergency intake first.
# ("showed up to group" is attendance, not an arrival.)
_NOT_ARRIVAL = r"(?!\s+(?:to|for)\s+(?:his|her|their|the|my|a|group|groups|session|sessions|appts?|appointments?|class|everything|it)\b)"
_EMERGENCY = re.compile(
    r"\b(?:emergency|emergent|urgent|stat|walk[-\s]?ins?|same[-\s]day|new\s+admit|admission"
    r"|needs\s+to\s+be\s+seen|just\s+(?:showed|walked)\s+(?:up|in)\b" + _NOT_ARRIVAL + r")\b"
)
# "not urgent", "can't take walk-ins", "no more walk-ins": the word is there, the emergency is not
_NOT_EMERGENCY = re.compile(
    r"\b(?:not|no|non|isn'?t|wasn'?t|can'?t\s+take|no\s+more)[\s-]+(?:an?\s+)?"
    r"(?:emergency|emergent|urgent|stat|walk[-\s]?ins?)\b"
)
# Someone who was in our care coming back ("readmit Tyler", "a former pt wants back in"): every
# development writer who writes these words labels an emergency intake, roster patient or not.
_READMISSION = re.compile(
    r"\bre-?admi(?:t\w*|ssions?)\b|\bwants?\s+(?:to\s+come\s+)?back\s+in\b"
    r"|\b(?:wants?|asking|asks|ready)\s+to\s+(?:come\s+back|restart)\b"
    r"|\b(?:former|old)\s+(?:pt|patient|client)\b"
)
_WALK_IN = re.compile(
    r"\b(?:walk[-\s]?ins?|(?:just\s+)?(?:showed|walked)\s+(?:up|in)\b" + _NOT_ARRIVAL + ")"
)
# Someone not yet on the roster, here now or in acute danger, who needs to be seen: "guy just
# came in off the street, detoxing, can anyone see him", "pt showed up suicidal, need a clinician
# asap", "police brought someone in, needs an assessment", "mom on the line, her son OD'd last
# night". A named roster patient in the same words ("Jamie is in the lobby", "Bill's in detox")
# is attendance or a cancellation, not an intake. Word classes: a state of acute use or danger...
_ACUTE = re.compile(
    r"\b(?:suicidal|homicidal|overdos\w*|od'?d|o\.d\.|withdraw\w*|w/d|detox\w*|dope\s?sick"
    r"|psychotic|in\s+crisis|crisis\s+(?:line|call|unit)|hurt\w*\s+(?:him|her|them)sel(?:f|ves)"
    r"|(?:kill|harm)\s+(?:him|her|them)sel(?:f|ves)|(?:wants?\s+to|she'?ll|he'?ll)\s+die|ending\s+it"
    r"|relaps\w*|(?:been\s+)?using\s+(?:again|since|meth|pills|heroin|fentanyl|dope)|back\s+on\s+\w+"
    r"|been\s+(?:using|drinking)|drinking|drank|drunk|intoxicated|high\s+on|nodding|bender"
    r"|cold\s+turkey|shaking|sweating|vomiting|narcan\w*|took\s+too\s+many|hearing\s+voices"
    r"|fentanyl|heroin|meth|xanax|benzos?|opioids?|opiates?|alcohol)\b"
)
# A patient already in our care in acute crisis who must be seen now or today ("SI + relapse,
# robert chen, need crisis slot now", "Maria Lopez in crisis, can Okafor see her now"): most
# development writers (5, 7-11) label an emergency intake, two a find_slot. Later days stay
# bookings ("a crisis appt first thing monday").
_IN_CRISIS = re.compile(
    r"\b(?:crisis|si|suicid\w*|panic\w*|escalat\w*|freaking\s+out|spiral\w*|used|relapsed)\b"
)
_RIGHT_AWAY = re.compile(
    r"\b(?:now|asap|right\s+away|immediately|stat|today|tonight|same[-\s]day)\b"
)
_SEEN_IN_CRISIS = frozenset(
    {None, "intake_assessment", "crisis", "psychiatric_evaluation", "medical_evaluation"}
)
# ...or someone here, on the line or sent over by the hospital, court or police...
_ARRIVED = re.compile(
    r"\b(?:(?:(?:showed|turned)\s+up|(?:came|walked)\s+in)\b"
    + _NOT_ARRIVAL
    + r"|off\s+the\s+street"
    r"|(?:in|at)\s+(?:the\s+|my\s+)?(?:lobby|waiting\s+room|front\s+desk|reception|window|door|desk"
    r"|car|billing\s+window|parking\s+lot)|outside|(?:on|on\s+the|on\s+hold)\s+(?:line|phone)\b"
    r"|brought\s+(?:\w+\s+){0,2}(?:in|over|from)\b|dropped\s+(?:\w+\s+){0,2}off\b"
    r"|(?:bringing|driving|sending|walked)\s+(?:\w+\s+){0,3}(?:in|over|here|by)\b)"
)
# ...or sent by the hospital, the court or the police for what only a new patient gets.
_REFERRED = re.compile(
    r"\b(?:er|ed|ems|hospital|police|judge|probation|parolee|jail|shelter|encampment|transfer\w*"
    r"|referral|discharg\w*)\b"
)
_FOR_INTAKE = re.compile(
    r"\b(?:intake|assess\w*|eval\w*|detox|treatment|tx|bed|admit|come\s+(?:in|here|straight))\b"
)
# "how many showed up last month": a count is a report, not an arrival
_COUNT = re.compile(r"\bhow\s+(?:many|much)\b")
# ...who is to be seen.
_TO_BE_SEEN = re.compile(
    r"\b(?:see|seen|intake|assess\w*|eval\w*|help|asap|now|right\s+away|immediately|today"
    r"|someone|somebody|anyone|anybody|clinician|counselor|therapist|fit|come\s+(?:in|here)"
    r"|get\s+(?:him|her|them|someone)\s+in|take\s+(?:him|her|them)|talk\s+to|treatment|bed)\b"
)
_INTAKE_WORD = re.compile(r"\bintakes?\b")
_ASSESSED = re.compile(r"\b(?:re-?)?assess(?:ed|ment|ments)?\b|\beval(?:uation|uated)?s?\b")
# "new patient Maria Lopez": a person not on the roster yet, named as they will be admitted.
_NEW_PERSON = re.compile(r"\bnew\s+(?:patient|pt|client)\b")
# "new patient Maria Lopez, IOP": the level of care they are admitted to, not a group session.
_ADMITTED_LEVEL = re.compile(r"\b(?:iop|intensive\s+outpatient)\b(?!\s+groups?)")
_NEW_PATIENT = re.compile(
    r"(?i:\bnew\s+(?:patient|pt|client)\b)[\s,:-]*"
    r"(?P<name>[A-Z][\w'’.-]*(?:[ ][A-Z][\w'’.-]*){0,2})"
)
# "new patient maria lopez": typed in lower case, the words after it up to the first one that is
# not a name (a common word, or one already read as a time, a need or a session type).
_NEW_PATIENT_LOWER = re.compile(
    r"(?i:\bnew\s+(?:patient|pt|client)\b)[\s,:-]*(?P<name>[a-z][a-z'’.-]*(?:[ ][a-z][a-z'’.-]*){0,2})"
)
# An offered option picked by its time, day, clinician or room: "the 3pm one", "go w/ the one
# with Okafor", "ok book the 4pm", "the thursday one", "the one in the oak room". The message
# starts with "the" (after a yes or a verb) and every word left over is one of _PICK_WORDS.
_PICK_START = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|yes|yep|yeah|sure|great|perfect|go|with|w/?|do|let'?s|lets|take|book"
    r"|i'?ll|we'?ll)\W+)*(?:the|go\s+w(?:ith|/)?)\b"
)
_PICK_WORDS = frozenset(
    [
        "ok",
        "okay",
        "yes",
        "yep",
        "yeah",
        "sure",
        "great",
        "perfect",
        "go",
        "with",
        "w",
        "w/",
        "do",
        "let's",
        "lets",
        "take",
        "book",
        "i'll",
        "ill",
        "we'll",
        "the",
        "one",
        "slot",
        "in",
        "on",
        "at",
        "pls",
        "please",
        "plz",
        "thx",
        "thanks",
        "later",
        "earlier",
        "other",
        "s",
        "'s",
    ]
)
_PICK_ORDER = frozenset({"later", "earlier"})
# Questions about the assistant itself: "is there a command to...", "can this book a walk-in",
# "how does rota decide...", "what am I supposed to type", "what's the difference between..."
_HELP = re.compile(
    r"\b(?:how\s+do\s+i|what\s+can\s+you\s+do|what\s+do\s+you\s+do"
    r"|is\s+there\s+an?\s+(?:command|shortcut|setting)"
    r"|how\s+(?:does|do|can|should)\s+(?:the\s+assistant|rota|this\s+(?:thing|bot|app|tool)|the\s+bot)"
    r"|can\s+(?:this|rota|the\s+assistant|the\s+bot|this\s+thing|this\s+bot)\s+(?:\w+\s+)?"
    r"(?:book|do|tell|show|handle|send|move|cancel|see|find|email|text)"
    r"|what\s+(?:am\s+i\s+supposed\s+to|do\s+i|should\s+i)\s+(?:type|say|write|enter)"
    r"|what'?s\s+the\s+difference\s+between|does\s+(?:rota|the\s+assistant|this\s+thing|the\s+bot))\b"
)
# "off christmas eve": an absence said in a word, whatever intent it is read as, keeps its day
_ABSENCE_OPENING = re.compile(r"^\W*(?:off|out|away|gone)\b")
_SCHEDULE_NOUN = re.compile(r"(?:'s|\bmy|\bthe|\bhis|\bher|\btheir|\byour)\s+schedule\b")
_SPECIFIC_UNAVAILABLE = re.compile(
    r"\b(?:out\s+sick|sick|calling\s+out|called\s+out|pto|vacation)\b"
)
CONTRACT_FIELDS = (
    "intent",
    "patient",
    "staff",
    "session_type",
    "needs",
    "window",
    "duration_minutes",
    "room",
    "option",
    "metric",
    "confidence",
    "parser",
)
"""The request-frame contract's fields (../shared/contracts/request-frame.schema.json)."""
FIELDS = (*CONTRACT_FIELDS, "action", "group")
"""Every field a frame carries: the contract's, then what this parser adds."""


@dataclass
class _State:
    text: str
    low: str
    taken: list[tuple[int, int]] = field(default_factory=list)
    names: list[tuple[int, int]] = field(default_factory=list)
    before_times: list[tuple[int, int]] = field(default_factory=list)

    def free(self, a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in self.taken)

    def take(self, a: int, b: int) -> None:
        self.taken.append((a, b))

    def matches(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        return times.free_matches(pattern, self.low, self.free)


def _lower(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@dataclass
class _Read:
    """What the rules read besides the frame: how they found the intent, the metric named in
    words (None when the frame's is a default), and the text the intent model reads."""

    how: str
    metric: str | None
    model_text: str


class Parser:
    """Compiled once per roster; `parse` is pure and thread-safe."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.tz: ZoneInfo = zone(roster.timezone)
        self.names = index_for(roster)
        self.session_types = set(roster.session_types)
        self._rooms = self._room_patterns(roster)

    @staticmethod
    def _room_patterns(roster: Roster) -> list[tuple[str, re.Pattern[str]]]:
        out = []
        for room in roster.rooms:
            name = room.name.lower().strip()
            alts = {re.escape(name).replace(r"\ ", r"\s+")}
            alts |= {a.replace("room", r"(?:room|rm\.?)") for a in list(alts)}
            if name.startswith("the "):
                alts.add(re.escape(name[4:]).replace(r"\ ", r"\s+"))
            if len(room.id) >= 3:
                alts.add(re.escape(room.id.lower()))
            base = re.sub(r"\s+1$", "", name)
            if base != name and not any(
                r.name.lower().strip() != name and r.name.lower().startswith(base)
                for r in roster.rooms
            ):  # "the group room" when "Group room 1" is the only one
                alts.add(r"the\s+" + re.escape(base).replace(r"\ ", r"\s+"))
            body = "|".join(sorted(alts, key=len, reverse=True))
            out.append((room.id, re.compile(rf"(?<![\w-])(?:{body})(?![\w:-])")))
        return out

    def parse(self, text: str, now: datetime, actor: str | None = None) -> dict[str, Any]:
        frame = self._understood(text, now, actor)
        if (
            frame["intent"] in ("unknown", "help")
            and not frame.get("action")
            and not _ABSENCE_OPENING.match(text.lower())
        ):
            # "happy friday!", "how do I book a group tomorrow?": nothing is asked of the
            # schedule, so no period is (every development writer leaves these empty). An
            # action beyond the contract's intents ("room 1 is closed tomorrow") keeps its own.
            frame = {**frame, "window": None}
            if frame["intent"] == "unknown":
                frame |= {"session_type": None, "needs": []}
        if frame["intent"] in _ONLY_WHO and not frame.get("action"):
            # "lisa's out sick, can someone cover her 10am group": the absence is the request;
            # the sessions it touches are not its fields (in 538 of the 548 development absences
            # no writer gives them), and a question about the assistant carries only its intent.
            keep = _ONLY_WHO[frame["intent"]]
            frame |= {f: None for f in _DETAILS if f not in keep} | {"needs": []}
        return frame

    def _understood(self, text: str, now: datetime, actor: str | None) -> dict[str, Any]:
        if now.tzinfo is None:
            now = now.replace(tzinfo=self.tz)
        frame = self._decided(text, now.astimezone(self.tz), actor)
        if frame["intent"] in _NO_PERIOD and frame["window"] and not _acts_besides(frame):
            # "merry christmas everyone", "how do I book for tomorrow?": small talk and
            # questions about the assistant ask about no period
            frame = {**frame, "window": None}
        return frame

    def _decided(self, text: str, now: datetime, actor: str | None) -> dict[str, Any]:
        """The rules' frame, with the intent model's word where it knows better."""
        frame, read = self._parse(text, now, actor)
        if read.how == "exact" or frame.get("action") or frame.get("repeat") or frame.get("scope"):
            return frame  # a change to the record, a series, a bare number: the rules are exact
        learned_model = intents.model()
        if learned_model is None or not _WORD_BESIDES_NAMES.search(read.model_text):
            # "Laura Fox" alone answers a question ("Which patient?"); it asks nothing new
            return frame
        guess = learned_model.guess(read.model_text)
        read_intent = frame["intent"]
        intent = intents.combine(read_intent, read.how == "fallback", guess)
        patient = frame.get("patient") or {}
        escalating = intents.escalated(read_intent, read.how == "fallback", guess)
        if escalating and patient.get("id") and not patient.get("new"):
            # a patient already on the roster is not a walk-in: "find an intake assessment for
            # Maria Lopez today" is the request the rules read, not an emergency
            intent, escalating = read_intent, False
        report = intent in ("utilization_summary", "compliance_report") and read.metric is None
        if intent != frame["intent"] or report:
            learned, _ = self._parse(text, now, actor, intent=intent, guess=guess)
            if learned.get("action"):
                return frame
            frame = learned
        either = intents.alternatives(frame["intent"], guess)
        if escalating:
            # made an emergency by the model alone: said back before a held slot is taken
            frame = {**frame, "confidence": min(frame["confidence"], intents.ASKED_CONFIDENCE)}
        if either:  # two readings that would do different things: the dialogue asks which
            confidence = min(frame["confidence"], intents.ASKED_CONFIDENCE)
            frame = {**frame, "alternatives": either, "confidence": confidence}
        elif guess.probabilities.get(frame["intent"], 0.0) < intents.DOUBT:
            # The words were read, but the model finds the intent unlikely: not sure enough to
            # act on (the dialogue says such a frame back before it books or reports anything).
            frame = {**frame, "confidence": min(frame["confidence"], intents.ASKED_CONFIDENCE)}
        return frame

    def _parse(
        self,
        text: str,
        now: datetime,
        actor: str | None,
        *,
        intent: str | None = None,
        guess: intents.Guess | None = None,
    ) -> tuple[dict[str, Any], _Read]:
        """The frame for an intent (the rules' own when none is given)."""
        st, option, duration, room, session_type, needs, metric, facts, new, hits = self._read(
            text, now
        )
        read = _Read(how="given", metric=metric, model_text=intents.masked(st.low, st.names))
        cues = self._cues(st)
        patient, staff, ambiguous = self._mentions(st, hits, cues)
        patient = new or patient
        if intent is None:
            intent, read.how = self._intent(
                st, cues, facts, metric, option, patient, staff, session_type, needs
            )
        reports = ("utilization_summary", "compliance_report")
        if intent in reports and metric is None and guess is not None:
            metric = guess.metric if guess.metric_probability >= intents.METRIC_SURE else None
        if intent == "confirm" and option is None:
            option = self._bare_option(st)
        if intent == "decline" and _NEGATED_PICK.search(st.low):
            option = None  # "not option 2" picks nothing
        if patient is not None and staff is None and intent == "staff_unavailable":
            patient, staff = None, self._as_staff(hits, patient)
        if patient is None and intent not in ("staff_unavailable", "help", "confirm", "decline"):
            patient = self._unknown_patient(st)
        if staff is None:
            self._self_mention(st, intent)
        past = times.past_spans(st.low, now) if intent == "emergency_intake" else []
        if past:  # "using since friday, can someone see him now": the window is what comes
            facts = times.extract(st.low, now, st.before_times + past)
            st.taken += past
        if intent == "emergency_intake" and session_type is None and _ASSESSED.search(st.low):
            session_type = "intake_assessment"  # "needs to be assessed today", "an eval NOW"
        if intent == "emergency_intake" and _INTAKE_WORD.search(st.low):
            session_type = "intake_assessment"  # "walk-in wants suboxone, needs an intake"
        elif intent == "emergency_intake" and session_type == "medication_management":
            session_type = None  # the medication is what they ask for; the visit is the intake
        times.own_session(facts, st.low, intent)  # "cancel his 11", "move my 4pm to monday"
        if intent == "reschedule" and facts.range_to and facts.range and not facts.exact:
            facts.exact, facts.range = facts.range[1], None  # "move her 10am to 11:30"
        if intent == "reschedule" and facts.to_part and not facts.to_clock:
            facts.exact = facts.range = facts.after = facts.before = None  # "to the morning"
        if intent == "reschedule" and facts.to_clock:
            facts.exact, facts.range = facts.to_clock, None  # "push Tyler to 3 tomorrow"
        if intent == "reschedule" and facts.to_period and facts.period:
            facts.day, facts.days, facts.to_day = None, None, None  # "to next week"
        if intent == "reschedule" and facts.to_day and facts.to_day != (facts.days or [None])[0]:
            # "from thursday to friday": the day it moves to
            facts.day, facts.days, facts.period = facts.to_day, None, None
        if intent in reports and facts.period is not None and not facts.until:
            # "court numbers for last week, I need them monday": the report's period is asked
            # for; a day named beside it is when the report is wanted
            facts.day, facts.days, facts.part = None, None, None
            facts.exact = facts.range = facts.after = facts.before = None
        if intent == "staff_unavailable" and facts.late_bare and facts.exact and not facts.before:
            facts.exact, facts.before = None, facts.exact  # "in late tmrw, like 10": out until 10
        window = times.resolve(facts, now, unavailable=intent == "staff_unavailable")
        if intent == "compliance_report" and times.due_only(facts, st.low, now.date()):
            window = None  # "auth status, need it before friday": a due date, no period
        if window is None and intent == "staff_unavailable" and not facts.any:
            window = times.resolve(times.TimeFacts(day=now.date()), now, unavailable=True)
        if intent in ("utilization_summary", "compliance_report") and metric is None:
            metric = "staff_utilization" if intent == "utilization_summary" else None
        if metric == "staff_utilization" and room is not None and staff is None:
            metric = "room_utilization"  # "oak room utilization last week": the room's
        if intent not in reports:
            metric = None  # "move his eval, the auth renews the 15th": a report's field only
        confidence = self._confidence(st, intent, ambiguous, facts)
        if read.how == "crisis":  # a roster patient's emergency from words: said back first
            confidence = min(confidence, intents.ASKED_CONFIDENCE)
        frame: dict[str, Any] = {
            "intent": intent,
            "patient": patient,
            "staff": staff,
            "session_type": session_type,
            "needs": needs,
            # an offered option picked by its number carries its own time (every writer)
            "window": None if intent == "confirm" and option is not None else _window(window),
            "duration_minutes": duration,
            "room": room,
            "option": option if intent == "confirm" else None,  # the contract: for confirm
            "metric": metric,
            "confidence": confidence,
            "parser": "rules",
            "action": None,
        }
        # Requests outside the contract's intents are told by added fields (`action`, ...).
        records.recognise(frame, text, now)  # living-record requests (admit, discharge, consent)
        if intent == "emergency_intake" and frame.get("action") == "admit_patient":
            # An emergency walk-in: the emergency handler admits (with these details) and finds
            # the assessment in the same turn, so the request stays an emergency.
            frame["intent"], frame["action"] = intent, None
        frame = waitlist.recognise(st.text, frame, self.tz)  # "put Jamie on the waitlist"
        repeating = None if frame.get("action") else series.recognise(st.low, frame, now)
        if repeating:  # "every Tuesday at 2 pm for 8 weeks", "cancel this and following"
            return frame | repeating, read
        frame = groups_rooms.recognise(st.text, frame)  # enrol in a group, close a room
        if frame.get("action"):
            return frame, read
        marked = attendance.recognise(st.low, frame, now=now, actor=actor, late=facts.late)
        if marked:
            return frame | marked, read  # "Jamie checked in", "my 2pm no-show"
        if frame["intent"] == "decline":
            # "none of those, she can only do evenings": a "no" answers what was offered; the
            # reason in it is not a new request (the dialogue shows other options).
            empty = dict.fromkeys(("patient", "staff", "session_type", "window", "room"), None)
            empty |= {"duration_minutes": None, "option": None, "metric": None, "needs": []}
            frame = frame | empty
        return frame, read

    # -- extractors -------------------------------------------------------------------------

    def _read(self, text: str, now: datetime) -> tuple[Any, ...]:
        """The extractors in their fixed order, up to the names (each takes its characters)."""
        st = _State(text, _lower(text))
        option = self._option(st)
        duration = self._duration(st)
        room = self._room(st)
        if _NEW_PERSON.search(st.low):
            for m in st.matches(_ADMITTED_LEVEL):
                st.take(m.start(), m.end())
        session_type = self._first_of(st, _SESSION, allowed=self.session_types)
        needs = self._all_of(st, _NEEDS)
        metric = self._first_of(st, _METRICS)
        st.before_times = list(st.taken)
        facts = times.extract(st.low, now, st.taken)
        st.taken += facts.spans
        new = self._new_patient(st)
        hits = self._names(st)
        return st, option, duration, room, session_type, needs, metric, facts, new, hits

    def model_text(self, text: str, now: datetime) -> str:
        """The message as the intent model reads it: lowercase, the names found masked."""
        return self._parse(text, now.astimezone(self.tz), None)[1].model_text

    def _option(self, st: _State) -> int | None:
        for m in st.matches(lx.OPTION_RE):
            tail = st.low[m.end() : m.end() + 5]
            if re.match(r"\s*(?::|/|am\b|pm\b|[ap]\b|o'?c)", tail):
                continue  # "the 2:30", "take the 2pm", "the 2 o'clock"
            raw = m.group("n") or m.group("n2") or m.group("n3")
            n = (
                int(raw)
                if raw
                else lx.ORDINALS[m.group("ord") or m.group("ord2") or m.group("ord3")]
            )
            st.take(m.start(), m.end())
            return n
        return None

    def _bare_option(self, st: _State) -> int | None:
        m = lx.BARE_NUMBER_RE.match(st.low)
        if m is None:
            pick = lx.BARE_PICK_RE.match(st.low)
            if pick is None:
                return None
            st.take(0, len(st.low))  # "1st", "the last one": the whole message is the answer
            return lx.ORDINALS[pick.group("ord")] if pick.group("ord") else None
        st.take(m.start("n"), m.end("n"))  # "2" is read: the whole message is the answer
        return int(m.group("n"))

    def _duration(self, st: _State) -> int | None:
        for m in st.matches(lx.DURATION_RE):
            if _WITHIN.search(st.low[: m.start()]):
                continue  # "in 20 minutes", "within the next 2 hrs" is a time
            if _LATE_BY.search(st.low[: m.start()]) or _LATE_AFTER.match(st.low, m.end()):
                continue  # "running behind 10 min", "15 min late": how late, not how long
            st.take(m.start(), m.end())
            return _minutes(m)
        return None

    def _room(self, st: _State) -> dict[str, Any] | None:
        found: list[tuple[int, int, str]] = []
        for room_id, pattern in self._rooms:
            for m in st.matches(pattern):
                found.append((m.start(), m.end(), room_id))
        if not found:
            return None
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        start, end, room_id = found[0]
        st.take(start, end)
        return {"text": st.text[start:end], "id": room_id}

    def _first_of(
        self,
        st: _State,
        table: list[tuple[str, re.Pattern[str]]],
        allowed: set[str] | None = None,
    ) -> str | None:
        best: tuple[int, str] | None = None
        for key, pattern in table:
            for m in st.matches(pattern):
                st.take(m.start(), m.end())
                if (allowed is None or key in allowed) and (best is None or m.start() < best[0]):
                    best = (m.start(), key)
        return best[1] if best else None

    def _all_of(self, st: _State, table: list[tuple[str, re.Pattern[str]]]) -> list[str]:
        found: list[tuple[int, str]] = []
        for key, pattern in table:
            for m in st.matches(pattern):
                st.take(m.start(), m.end())
                found.append((m.start(), key))
        out: list[str] = []
        for _, key in sorted(found):
            if key not in out:
                out.append(key)
        return out

    def _names(self, st: _State) -> list[NameHit]:
        tokens = [t for t in tokenize(st.text) if st.free(t.start, t.end)]
        hits = [
            _as_written(st.text, h, self.names)
            for h in self.names.find(st.text, tokens)
            if not _someone_else(st.text, h, tokens, self.names)
        ]
        for h in hits:
            st.take(h.start, h.end)
            st.names.append((h.start, h.end))
        return hits

    def _cues(self, st: _State) -> dict[str, list[str]]:
        # Names are masked, not hidden, so "put Tyler in" and "who is Dr. Raman seeing" match
        masked = list(st.low)
        for a, b in st.names:
            masked[a:b] = "n" * (b - a) if st.low[a:b].strip() else masked[a:b]
        text = "".join(masked)
        others = [span for span in st.taken if span not in st.names]

        def free(a: int, b: int) -> bool:
            return all(b <= s or a >= e for s, e in others) and not any(
                s <= a and b <= e for s, e in st.names
            )

        cues: dict[str, list[str]] = {}
        spans: list[tuple[int, int]] = []
        for intent, pattern in _CUES:
            for m in times.free_matches(pattern, text, free):
                cues.setdefault(intent, []).append(m.group())
                spans.append((m.start(), m.end()))
        for m in times.free_matches(_POSSESSIVE_OUT, text, free):
            cues.setdefault("staff_unavailable", []).append(m.group())
            spans.append((m.start(), m.end()))
        st.taken += spans
        return cues

    # -- decisions --------------------------------------------------------------------------

    def _mentions(
        self, st: _State, hits: list[NameHit], cues: dict[str, list[str]]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, bool]:
        patient = staff = None
        ambiguous = False
        for hit in hits:
            patients = [p for p in hit.people if p.kind == "patient"]
            staff_people = [p for p in hit.people if p.kind == "staff"]
            if not patients and not staff_people:
                continue  # a family contact: not a frame field
            kind = self._kind(st, hit, bool(patients), bool(staff_people), cues)
            if kind == "staff" and staff is not None and patients and not hit.titled:
                kind = "patient"  # the clinician is already named: this is the patient
            elif kind == "patient" and patient is not None and staff_people:
                kind = "staff"
            people = patients if kind == "patient" else staff_people
            mention = _mention(_titled(st, hit), sorted({p.id for p in people}))
            ambiguous |= mention["id"] is None
            if kind == "patient" and patient is None:
                patient = mention
            elif kind == "staff" and staff is None:
                staff = mention
        return patient, staff, ambiguous

    def _kind(
        self,
        st: _State,
        hit: NameHit,
        has_patient: bool,
        has_staff: bool,
        cues: dict[str, list[str]],
    ) -> str:
        if hit.titled or not has_patient:
            return "staff"
        if not has_staff:
            return "patient"
        honorific = _HONORIFIC_AT.match(hit.text)  # "with Ms. Nguyen": the word before "Ms."
        prev = _prev_word_at(st.text, hit.start + (honorific.end() if honorific else 0))
        if prev in _STAFF_CONTEXT:
            return "staff"
        if prev in _PATIENT_CONTEXT:
            return "patient"
        return "staff" if "staff_unavailable" in cues else "patient"

    def _as_staff(self, hits: list[NameHit], patient: dict[str, Any]) -> dict[str, Any] | None:
        for hit in hits:
            if hit.text == patient["text"]:
                staff = sorted({p.id for p in hit.people if p.kind == "staff"})
                return _mention(hit.text, staff) if staff else None
        return None

    def _new_patient(self, st: _State) -> dict[str, Any] | None:
        """'new patient Maria Lopez': the name is taken before the roster's names are looked
        for (a new person may share a surname with someone on it); `new` marks the mention."""
        m = next((m for m in _NEW_PATIENT.finditer(st.text) if st.free(*m.span("name"))), None)
        if m is not None:
            st.take(m.start(), m.end())
            return {"text": m.group("name"), "id": None, "new": True}
        lower = self._new_patient_lower(st)
        if lower is not None:
            return lower
        bare = next((m for m in _NEW_PERSON.finditer(st.low) if st.free(*m.span())), None)
        if bare is not None:  # "a new patient" without a name: the dialogue asks for it
            st.take(*bare.span())
            return {"text": "", "id": None, "new": True}
        return None

    def _new_patient_lower(self, st: _State) -> dict[str, Any] | None:
        """'new patient maria lopez': the leading words that can be a name (a given name first)."""
        common = common_words()
        for m in _NEW_PATIENT_LOWER.finditer(st.text):
            end, words = m.start("name"), []
            for word in re.finditer(r"[^ ]+", m.group("name")):
                a, b = m.start("name") + word.start(), m.start("name") + word.end()
                key = word.group().strip(".").lower()
                if key in common or key in lx.FILLER or not st.free(a, b):
                    break
                words.append(word.group().strip("."))
                end = b
            if words and _given_name(words[0]):
                st.take(m.start(), end)  # the words as written (the contract's mention text)
                return {"text": " ".join(words), "id": None, "new": True}
        return None

    def _unknown_patient(self, st: _State) -> dict[str, Any] | None:
        """A capitalised name after 'for'/'patient' that is not on the roster: id stays null."""
        common = common_words()
        tokens = tokenize(st.text)
        for i, tok in enumerate(tokens[1:], 1):
            prev = tokens[i - 1].key
            if prev not in _PATIENT_CONTEXT or not st.free(tok.start, tok.end):
                continue
            if not tok.text[:1].isupper() or tok.key in common or tok.key in lx.FILLER:
                continue
            if not _given_name(tok.text) and tok.key not in gazetteer()[1]:
                continue  # "for MAT", "for Q4": a capital is not a name
            end = tok.end
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if (
                nxt
                and nxt.text[:1].isupper()
                and st.free(nxt.start, nxt.end)
                and st.text[tok.end : nxt.start] == " "
                and (nxt.key not in common or _given_name(tok.text))  # "Tanya Fields"
                and nxt.key not in lx.FILLER
                and len(nxt.key) > 1
            ):
                end = nxt.end
            st.take(tok.start, end)
            return {"text": st.text[tok.start : end], "id": None}
        return self._person_named(st)

    def _person_named(self, st: _State) -> dict[str, Any] | None:
        """Someone not on the roster named in passing, as written: "guy named brandon hale",
        "referral from probation: Jenna Price, court ordered", "walk in, rosa vega, needs an
        intake". A given name and a surname, set off by punctuation or a word that introduces
        a person on the left and by punctuation or a verb on the right."""
        tokens = tokenize(st.text)
        common = common_words()
        for tok, nxt in pairwise(tokens):
            if st.text[tok.end : nxt.start] != " " or not (
                st.free(tok.start, tok.end) and st.free(nxt.start, nxt.end)
            ):
                continue
            if not _given_name(tok.text) or len(nxt.key) < 2 or nxt.key in lx.FILLER:
                continue
            named = bool(_NAMED_BY.search(st.low[: tok.start]))
            if not named and not (
                _PERSON_LEFT.search(st.low[: tok.start]) and _PERSON_RIGHT.match(st.low, nxt.end)
            ):
                continue
            capital = tok.text[:1].isupper() and nxt.text[:1].isupper()
            if not capital and tok.key in common and (nxt.key in common or not named):
                continue  # "will do", "ray of hope": everyday words
            if (
                not capital
                and nxt.key in common
                and not (named or _PUNCT_RIGHT.match(st.low, nxt.end))
            ):
                continue
            st.take(tok.start, nxt.end)
            return {"text": st.text[tok.start : nxt.end], "id": None}
        return None

    def _self_mention(self, st: _State, intent: str) -> None:
        """'I'm out', 'my 2pm': the sender speaks of themselves. The words are read (they count
        toward confidence) but the frame's staff stays null: the contract's fields are what the
        message names, and the dialogue takes the sender when staff is null."""
        if intent not in _SELF_INTENTS:
            return
        m = next(
            (m for m in _SELF.finditer(st.low) if not _NOT_SELF.search(st.low[: m.end()])), None
        )
        if m:
            st.take(m.start(), m.end())

    def _intent(
        self,
        st: _State,
        cues: dict[str, list[str]],
        facts: times.TimeFacts,
        metric: str | None,
        option: int | None,
        patient: dict[str, Any] | None,
        staff: dict[str, Any] | None,
        session_type: str | None,
        needs: list[str],
    ) -> tuple[str, str]:
        """The rules' intent, and how they found it: "exact" (a bare number, "how do I"), "cue"
        (words that say it), "crisis" (a cue that makes an emergency of a patient already in our
        care: said back before it acts), or "fallback" (a guess from what the message names)."""
        low = st.low.strip()
        if lx.BARE_NUMBER_RE.match(low) or lx.BARE_PICK_RE.match(low):
            return "confirm", "exact"
        # "how do I move an appointment, Robert wants his 1pm at 3": the question wraps a request
        # that names whom and when; every development writer labels the request
        asks = {k for k, v in cues.items() if not (k == "find_slot" and set(v) <= _PICK_NOUNS)}
        if _HELP.search(low) and not (patient and facts.any and asks - {"help"}):
            return "help", "exact"
        if self._picked(st, cues):
            st.take(0, len(st.low))  # the whole message is the pick: every word is read
            return "confirm", "exact"
        if _REFUSAL_OPENING.search(low) or _REFUSAL.search(low):
            return "decline", "cue"
        if _NO_BOOKING_ON.search(low):
            return "staff_unavailable", "exact"  # "nobody book me before noon": not a booking
        on_roster = patient is not None and not patient.get("new")
        # a move or a cancellation mentions a walk-in; it does not report one
        said = not cues.keys() & {"cancel", "reschedule"}
        said = said and not _NOT_EMERGENCY.search(low) and not _COUNT.search(low)
        if said and session_type in (None, "intake_assessment", "crisis"):
            m = _EMERGENCY.search(low)
            arrival = m is not None and m.group().startswith("just")
            if (
                m
                and (session_type or not m.group().startswith(("emergen", "urgent", "stat")))
                and not (arrival and on_roster)  # "Tyler just walked in": he is here for his
            ):
                return "emergency_intake", "cue"
            if session_type == "intake_assessment" and facts.now:
                return "emergency_intake", "cue"
        elif said and _WALK_IN.search(low):
            return "emergency_intake", "cue"  # "walk in asking for methadone"
        if said and _READMISSION.search(low):
            return "emergency_intake", "cue"  # "readmit for will turner, came in shaking"
        # an absence of the sender or a named clinician ("I'm at the hospital, can someone cover")
        absence = ("staff_unavailable" in cues and (staff is not None or _SELF.search(low))) or (
            facts.leave is not None or facts.late is not None
        )
        if (
            said
            and session_type in (None, "intake_assessment", "crisis")
            and not on_roster
            and metric is None
            and not absence
            and not _COUNT.search(low)
            and (
                _ACUTE.search(low)
                or _ARRIVED.search(low)
                or (_REFERRED.search(low) and _FOR_INTAKE.search(low))
            )
            and _TO_BE_SEEN.search(low)
        ):
            return "emergency_intake", "cue"
        if (
            said
            and on_roster
            and session_type in _SEEN_IN_CRISIS
            and metric is None
            and not absence
            and not _COUNT.search(low)
            and (_ACUTE.search(low) or _IN_CRISIS.search(low))
            and _RIGHT_AWAY.search(low)
            and _TO_BE_SEEN.search(low)
        ):
            return "emergency_intake", "crisis"  # a cue, said back before a held slot is taken
        self_ref = bool(_SELF.search(low))
        unavailable = (
            facts.late is not None
            or facts.late_bare
            or facts.leave is not None
            or "staff_unavailable" in cues
        )
        if unavailable:
            if patient is None or staff is not None or self_ref:
                return "staff_unavailable", "cue"
            if "reschedule" in cues:
                return "reschedule", "cue"  # "Jamie can't make it today, asks for monday instead"
            if "cancel" in cues or _SPECIFIC_UNAVAILABLE.search(low):
                return "cancel", "cue"  # the patient called out: their session goes
            if session_type is not None or facts.exact is not None:
                return "cancel", "cue"  # "Sofia's friday 1:1 is off", "her 3pm is off"
        if "reschedule" in cues:
            return "reschedule", "cue"
        if "cancel" in cues:
            if _DECLINE_ONLY.search(low) and patient is None and not facts.any:
                return "decline", "cue"
            return "cancel", "cue"
        if metric is not None:
            return (
                "utilization_summary" if metric in lx.SUMMARY_METRICS else "compliance_report",
                "cue",
            )
        if "compliance_report" in cues and any(
            c.startswith("complian") for c in cues["compliance_report"]
        ):
            return "compliance_report", "cue"
        if "utilization_summary" in cues and "utiliz" in " ".join(cues["utilization_summary"]):
            return "utilization_summary", "cue"
        if (
            _BOOK_IT.search(low)
            and patient is not None
            and option is None
            and "find_slot" not in cues
        ):
            return (
                "book",
                "cue",
            )  # "Robert would like the 2:30 thursday, please book it": the request
        # "book it" or "the 2nd" picks an offer unless the message asks something else too ("is
        # there a group tonight? she needs her 2nd one this week", "find a slot, then book it")
        if (_BOOK_IT.search(low) or option is not None) and not asks - _PICKING:
            if _NEGATED_PICK.search(low):
                return "decline", "cue"
            return "confirm", "exact"
        if "book" in cues:
            if cues["book"] == ["schedule"] and _SCHEDULE_NOUN.search(low):
                return "schedule_lookup", "cue"
            return "book", "cue"
        if "find_slot" in cues:
            return "find_slot", "cue"
        if "schedule_lookup" in cues:
            return "schedule_lookup", "cue"
        if "decline" in cues:
            return "decline", "cue"
        if "confirm" in cues:
            return "confirm", "cue"
        if "help" in cues:
            return "help", "cue"
        if session_type or needs:
            return "find_slot", "fallback"
        if (patient or staff) and facts.any:
            return "schedule_lookup", "fallback"
        return "unknown", "fallback"

    @staticmethod
    def _picked(st: _State, cues: dict[str, list[str]]) -> bool:
        """The message picks an offered option by what it is, not by its number."""
        # "the 4pm slot": the word "slot" names the pick, it does not ask for a slot
        other = {k for k, v in cues.items() if not (k == "find_slot" and set(v) <= _PICK_NOUNS)}
        if not _PICK_START.match(st.low) or other - {"book", "confirm"}:
            return False
        free = [
            m.group()
            for m in re.finditer(r"[a-z0-9/']+", st.low)
            if st.free(m.start(), m.end()) and m.group() not in lx.FILLER
        ]
        read = any(not st.free(m.start(), m.end()) for m in _WORD_RE.finditer(st.low))
        words = set(free)
        return words <= _PICK_WORDS and (read or bool(words & _PICK_ORDER))

    def _confidence(
        self, st: _State, intent: str, ambiguous: bool, facts: times.TimeFacts
    ) -> float:
        words = [m for m in _WORD_RE.finditer(st.low)]
        if not words:
            return 0.0
        covered = sum(1 for m in words if m.group() in lx.FILLER or not st.free(m.start(), m.end()))
        score = 0.7 * covered / len(words) + (0.3 if intent != "unknown" else 0.0)
        if ambiguous:
            score -= 0.1
        if facts.unresolved:
            score -= 0.1
        return round(max(0.0, min(1.0, score)), 2)


# "slot 2", "the second option": words that name an offer, not a request for one
_PICK_NOUNS = frozenset({"slot", "option", "options"})
# the cues a pick is said with ("yes, book the first option", "no wait, make it option 3")
_PICKING = frozenset({"book", "confirm", "decline"})
_NO_BOOKING_ON = re.compile(rf"(?<![\w']){lx.NO_BOOKING_ON}(?!\w)")
_NO_PERIOD = frozenset({"unknown", "help"})
_DETAILS = ("patient", "staff", "session_type", "duration_minutes", "room", "option", "metric")
# The fields an absence and a question about the assistant keep (besides the window).
_ONLY_WHO: dict[str, frozenset[str]] = {
    "staff_unavailable": frozenset({"staff"}),
    "help": frozenset(),
}


def _acts_besides(frame: dict[str, Any]) -> bool:
    """A frame that says what to do in added fields (an attendance mark, an enrolment...)."""
    return bool(frame.get("action") or frame.get("repeat") or frame.get("scope"))


def _titled(st: _State, hit: NameHit) -> str:
    """The mention's text with a courtesy title written before it ("Mrs. Kowalski")."""
    title = _HONORIFIC_BEFORE.search(st.low[: hit.start])
    if title is None or hit.titled:
        return hit.text
    st.take(title.start(), hit.start)
    return st.text[title.start() : hit.end]


def _prev_word_at(text: str, start: int) -> str:
    m = re.search(r"([A-Za-z/]+)\W*$", text[:start])
    return m.group(1).lower().rstrip("/") if m else ""


def _mention(text: str, ids: list[str]) -> dict[str, Any]:
    if len(ids) == 1:
        return {"text": text, "id": ids[0]}
    return {"text": text, "id": None, "candidates": ids}


def _minutes(m: re.Match[str]) -> int:
    if m.group("hh"):
        return 90
    if m.group("hh2"):
        return int(m.group("hh2")) * 60 + 30
    if m.group("n"):
        n = float(m.group("n"))
        return round(n * 60) if m.group("u").startswith("h") else round(n)
    w = " ".join(m.group("w").split())
    return round(lx.WORD_NUMBERS.get(w, 1) * 60)


def _window(window: tuple[datetime, datetime] | None) -> dict[str, str] | None:
    if window is None:
        return None
    return {
        "start": window[0].isoformat(timespec="seconds"),
        "end": window[1].isoformat(timespec="seconds"),
    }


# Around a name not on the roster (see Parser._person_named).
_NAMED_BY = re.compile(r"\b(?:named|name\s+is|name'?s|called|goes\s+by)\s+$")
_PERSON_LEFT = re.compile(
    r"(?:^|[,:;.!?()\-–—]|\b(?:for|pt|client|patient|referral|son|daughter|husband|wife|brother"
    r"|sister|guy|lady|man|woman|kid|boyfriend|girlfriend|partner))\s*$"
)
_PUNCT = r"\s*(?:$|[,.;:!?()\-–—]|\(?\d"
_PUNCT_RIGHT = re.compile(_PUNCT + ")")
_PERSON_RIGHT = re.compile(
    _PUNCT + r"|(?:is|was|wants|needs|says|said|here|has|who|from|just|came"
    r"|walked|called|asking|asked|arriving|released|releasing|needing)\b)"
)
_HONORIFIC = r"\b(?:mrs?|ms|miss|mx|se[nñ]ora?|sra|sr)\.?\s+"
_HONORIFIC_BEFORE = re.compile(_HONORIFIC + "$", re.IGNORECASE)
_HONORIFIC_AT = re.compile(_HONORIFIC, re.IGNORECASE)
_NOT_INITIAL = frozenset({"a", "i", "w", "x"})


def _given_name(word: str) -> bool:
    """A first name in the gazetteer or the nickname list ("nate", "bo")."""
    key = norm(word)
    if word.isupper() and len(word) <= 3:
        return False  # "ED", "MAT": an abbreviation
    return len(key) > 1 and (key in gazetteer()[0] or key in nicknames())


def _as_written(text: str, hit: NameHit, index: NameIndex) -> NameHit:
    """The mention's words as a writer labels them: "Mrs. Kowalski" with the honorific, "tyler j"
    with the surname's initial, "tylers appt" without the possessive s."""
    start, end, people = hit.start, hit.end, hit.people
    m = _HONORIFIC_BEFORE.search(text[: hit.start])
    if m and not hit.titled and not any(norm(hit.text) == p.first for p in people):
        start = m.start()
    initial = re.match(r" ([A-Za-z])\b\.?(?![\w/]|'(?!s\b))", text[hit.end :])
    if initial and not hit.full and initial.group(1).lower() not in _NOT_INITIAL:
        same = tuple(p for p in people if p.last[:1] == initial.group(1).lower())
        if same and all(norm(hit.text) != p.last for p in same):  # a first name, then initial
            end, people = hit.end + initial.end(), same
    key = norm(text[start:end].split()[-1])
    if (
        not hit.exact
        and key.endswith("s")
        and index.exact(key[:-1])
        and text[end : end + 1] == " "  # "tylers appt", not "(kowalskis)"
        and not re.search(r"\bthe\s+$", text[:start].lower())  # "the Kowalskis": the family
    ):
        end -= 1
    if (start, end, people) == (hit.start, hit.end, hit.people):
        return hit
    return replace(hit, start=start, end=end, text=text[start:end], people=people)


def _someone_else(text: str, hit: NameHit, tokens: list[Token], index: NameIndex) -> bool:
    """A one-word roster match that is half of another person's full name: "nate holloway" is
    not Kate O'Neil, "travis kane" not Kate, "Kevin Doyle" not Dr. Kevin Nguyen."""
    if hit.full or hit.titled or hit.initials:
        return False
    i = next((k for k, t in enumerate(tokens) if t.start == hit.start), None)
    if i is None:
        return False
    common = common_words()
    for k, gap in ((i + 1, text[hit.end : tokens[i + 1].start] if i + 1 < len(tokens) else ""),
                   (i - 1, text[tokens[i - 1].end : hit.start] if i > 0 else "")):  # fmt: skip
        if not 0 <= k < len(tokens) or gap != " ":
            continue
        other = tokens[k]
        if len(other.key) < 3 or other.key in lx.FILLER or index.exact(other.key):
            continue
        if index.fuzzy(other.key):
            continue  # a misspelled surname of the roster: "jaime riviera"
        capital = hit.text[:1].isupper() and other.text[:1].isupper()
        if capital and (k > i or _given_name(other.text)) and other.key not in common:
            return True  # "Kevin Doyle", "Marcus Webb"
        known = other.key in gazetteer()[0] or other.key in gazetteer()[1]
        if (
            not hit.exact
            and known
            and other.key not in common
            and (k > i or _given_name(other.text))
        ):
            return True  # "nate holloway", "travis kane", "owen pike"
    return False
