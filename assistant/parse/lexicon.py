"""The everyday words of a treatment facility, as data: session types, specializations, metrics,
intent cues, durations and option numbers. Each entry is a regex fragment matched on lowercase
text with word boundaries; longer phrases are tried first.
"""

from __future__ import annotations

import re

SESSION_TYPES: dict[str, list[str]] = {
    "individual": [
        r"1\s?:\s?1", r"1\s?-\s?1", r"1\s?on\s?1", r"one[-\s]on[-\s]one", r"one[-\s]to[-\s]one",
        r"individual(?:\s+(?:therapy|session|counseling|counselling|tx|appt|appointment))?",
        r"indiv", r"(?:therapy|counseling|counselling)\s+session", r"ind\s+therapy",
    ],
    "group": [
        # "groups", "IOP"; never "the group rooms" (a report about rooms, not a session)
        r"groups?(?:\s+(?:therapy|sessions?|counseling|tx))?(?!\s+rooms?\b)", r"grps?",
        r"process\s+groups?", r"psycho[-\s]?ed(?:ucation)?\s+groups?", r"iop(?:\s+groups?)?",
    ],
    "family": [
        r"family\s+(?:therapy|sessions?|meetings?|counseling|mtgs?|sesh)",
        r"fam\s+(?:session|therapy|mtg)",
        # "family" alone is the session, but not a family emergency, thing or member
        r"(?<!the\s)family(?!\s+(?:emergenc(?:y|ies)|stuff|things?|matters?|issues?|members?"
        r"|reasons?|events?|just|systems|friendly|situation|obligations?|leave|funeral|wedding"
        r"|trip|vacation|medical"
        # ...nor the family as who acts ("family called", "family on the line", "family is here")
        r"|called|calls|calling|is|was|are|were|on\s+the\s+(?:line|phone)|here|brought|bringing"
        r"|asked|asking|dropped|waiting|visiting|came|comes|has|had|says|said|in|can|could)\b)",
        r"couples?\s+(?:session|therapy)",
    ],
    "intake_assessment": [
        # ...but not "her intake follow-up", a visit after the intake that names no type
        r"intakes?(?:\s+(?:assessments?|appts?|appointments?|eval(?:uation)?s?|sessions?))?"
        r"(?![\s-]+(?:follow[-\s]?ups?|f/u)\b)",
        r"biopsychosocial",
        r"initial\s+assessment", r"new\s+(?:patient|pt|client)\s+(?:eval|assessment|appt)",
        r"(?:needs?|for|an?)\s+(?:an?\s+)?(?:(?:emergency|emergent|urgent)\s+)?assessment\b",
    ],
    "psychiatric_evaluation": [
        r"psych(?:iatric)?\s+eval(?:uation)?s?", r"psych\s+assessment", r"psychiatric\s+assessment",
        r"psychiatry\s+(?:eval|consult|appt|appointment)", r"psych\s+consult",
    ],
    "medical_evaluation": [
        r"medical\s+(?:eval(?:uation)?|exam|assessment|appt|appointment)", r"physical(?:\s+exam)?",
        r"physicals", r"h\s?&\s?ps?", r"med\s+eval",
    ],
    "medication_management": [
        r"med(?:ication)?s?\s+(?:checks?|chks?|mgmt|management|reviews?|follow[-\s]?ups?|f/?u|visits?"
        r"|appts?)",
        r"mat\s+(?:pts|patients|clients|appts?|appointments|visits?)", r"injections?",
        r"(?:suboxone|buprenorphine|bupe|subutex|vivitrol|naltrexone|methadone|mat|sublocade)"
        r"\s+(?:follow[-\s]?up|f/?u|check|appt|appointment|visit|induction|review|refill)",
        r"med\s+mgmt", r"prescriber\s+(?:visit|appt)",
        r"med(?:ication)?\s+(?:slots?|line|list|clinic)",  # "the 9am med line", "tmrw's med clinic"
        # A medication named alone implies its visit: "his vivitrol shot", "jamie's suboxone".
        r"(?:suboxone|buprenorphine|bupe|subutex|vivitrol|naltrexone|methadone|sublocade|brixadi)"
        r"(?:\s+(?:shot|injection|dose|dosing|script|prescription))?",
    ],
    "case_management": [
        r"case\s+management(?:\s+(?:session|appt|meeting))?", r"case\s+mgmt",
        r"housing\s+(?:mtgs?|meetings?|appts?|appointments?|sessions?)",
        r"cms?(?:\s+(?:appts?|sessions?|meetings?|mtgs?|check[-\s]?ins?))?",
    ],
    # ...not the phone line or centre that sent someone ("the crisis line transferred a caller")
    "crisis": [
        r"crisis(?:\s+(?:session|appt|intervention|counseling))?"
        r"(?!\s+(?:lines?|hotlines?|centers?|centres?|text\s+line)\b)"
    ],
}  # fmt: skip

NEEDS: dict[str, list[str]] = {
    "dual_diagnosis": [
        r"dual[-\s]?(?:diagnosis|dx|diag)", r"co[-\s]?occurring(?:\s+disorders?)?", r"cod\b",
        r"ddc", r"dual\s+disorders?",
    ],
    "trauma": [r"trauma(?:[-\s](?:focused|informed|specialist|trained))?", r"ptsd", r"emdr"],
    "adolescent": [
        r"adolescents?", r"teens?", r"youth", r"teenagers?",
        # a minor's age: "16 yo", "14-year-old", "her grandson is 14" (not "he's 15 min late")
        r"1[0-7]\s*(?:yo|y/?o|yrs?[-\s]old|years?[-\s]old)",
        r"(?:son|daughter|kid|boy|girl|grandson|granddaughter|child|he|she)(?:\s+is|'s|\s+'s)\s+(?:only\s+|just\s+)?1[0-7](?![\d:])(?!\s*(?:min|am|pm|to|-|or|and\s+\d|[ap]\b))",
        # ...or set off by commas beside the person: "young guy, 17, parents not here", "daughter
        # 17, overdosed", "walk-in kid, maybe 14, with grandma"
        r"(?:son|daughter|kid|boy|girl|guy|grandson|granddaughter|child|teen|teenager)(?:,\s*|\s+)(?:maybe\s+|like\s+|about\s+|only\s+|just\s+)?1[0-7](?=\s*[,.;)]|\s*$)",
    ],
    "family_systems": [r"family[-\s]systems"],
    "mat": [
        r"mat\s+(?:provider|prescriber|waivered|certified)", r"x[-\s]?waiver(?:ed)?",
        # MAT asked for ("a MAT intake", "wants to start MAT", "someone who does MAT"), not a
        # program or its patients ("MAT pts", "the MAT group", "MAT training")
        r"mat(?=\s+(?:intakes?|inductions?|starts?)\b)",
        r"(?:wants?|needs?|to\s+start|starting|start|does|do|get\s+on|on|for|\+)\s+(?:an?\s+)?mat"
        r"(?!\s+(?:appts?|appointments?|pts|patients|clients|visits?|groups?|program|training|summit"
        r"|case|track|clinic|team|meeting))",
    ],
    "womens": [r"women'?s", r"female\s+(?:clinician|therapist|counselor|provider)"],
    "veterans": [r"veterans?", r"vets?\b", r"military"],
    "spanish_speaking": [
        r"spanish[-\s]?speaking", r"spanish", r"bilingual(?:\s+spanish)?", r"en\s+espa[nñ]ol",
        r"habla\s+espa[nñ]ol",
    ],
}  # fmt: skip

METRICS: dict[str, list[str]] = {
    "room_utilization": [
        r"room\s+(?:utili[sz]ation|usage|use|occupancy)", r"rooms?\s+(?:were|are)\s+(?:used|booked|full)",
        r"(?:utili[sz]ation|occupancy|usage)\s+(?:of|for)\s+(?:the\s+)?rooms",
        r"how\s+full\s+(?:were|are|was)\s+(?:the\s+)?rooms", r"usage", r"occupancy",
    ],
    "staff_utilization": [
        r"(?:therapist|clinician|staff|counselor|counsellor|provider|psychiatrist|prescriber|clinical)s?'?"
        r"\s+(?:utili[sz]ation|productivity|capacity|load)",
        r"utili[sz]ation", r"productivity", r"caseloads?", r"how\s+busy",
    ],
    "no_show_rate": [r"no[-\s]?show(?:s|\s+rate)?", r"missed\s+appointments", r"dnas?\b"],
    "attendance": [r"attendance(?:\s+rate)?", r"show\s+rate", r"turnout"],
    "court_compliance": [
        r"court(?:[-\s]ordered)?\s+(?:compliance|report|status|requirements|attendance)",
        r"drug\s+court(?:\s+(?:report|compliance|attendance))?", r"probation\s+(?:report|compliance)",
        r"court[-\s]ordered\s+(?:patients|clients|pts)",
    ],
    "authorization_status": [
        r"(?:prior\s+)?auth(?:orization)?s?(?:\s+status)?", r"units\s+(?:left|remaining)",
        r"pre[-\s]?auths?",
    ],
    "unmet_requirements": [
        r"unmet(?:\s+requirements)?", r"behind\s+on\s+(?:their\s+)?(?:hours|sessions|requirements)",
        r"missing\s+(?:required\s+)?sessions", r"(?:haven'?t|hasn'?t|not)\s+met\s+(?:their\s+)?requirements",
        r"short\s+on\s+(?:hours|sessions)", r"treatment[-\s]plan\s+minimums",
    ],
}  # fmt: skip

SUMMARY_METRICS = frozenset({"staff_utilization", "room_utilization", "no_show_rate", "attendance"})

# Intent cues: (intent, pattern). Weighted later by the parser's decision rules.
# "nobody book me before noon", "don't put anyone with her": no bookings on someone, an absence
# in words the intent model reads as a booking (the parser takes it as exact).
NO_BOOKING_ON = (
    r"(?:don'?t|do\s+not|not\s+to|nobody|no\s+one)\s+(?:book|schedule|put)\s+"
    r"(?:(?:any|anyone|anybody|anything|any\s+\w+)\s+)?(?:(?:on|with|for)\s+)?(?:me|him|her|them)"
)

INTENT_CUES: dict[str, list[str]] = {
    "emergency_intake": [
        r"emergency", r"emergent", r"urgent(?:ly)?", r"walk[-\s]?ins?", r"same[-\s]day",
        r"(?:new\s+)?admi(?:t|ssion)", r"needs\s+to\s+be\s+seen", r"just\s+(?:showed|walked)\s+(?:up|in)",
    ],
    "staff_unavailable": [
        r"out\s+sick", r"(?:call(?:ing)?|called)\s+(?:out|in\s+sick)", r"sick(?:\s+day)?", r"won'?t\s+be\s+(?:in|coming)",
        r"can'?t\s+(?:come|make\s+it)\s+in", r"not\s+coming\s+in", r"(?:on\s+)?(?:pto|vacation|leave|holiday)",
        # "off christmas eve", "out thurs and fri": a message that opens with the days away
        r"^\W*(?:off|out)(?=\s+(?:today|tonight|tomorrow|tmrw|christmas|xmas|new\s+year|thanksgiving"
        r"|mon|tue|wed|thu|fri|sat|sun|the\s+\d|dec|jan|all|next|this|until|til|thru|through)\b)",
        r"out\s+of\s+(?:the\s+)?office", r"ooo", r"day\s+off", r"(?:i'?m|im|is|am|be|are|will\s+be)\s+(?:out|off|away|unavailable)",
        r"unavailable", r"jury\s+duty", r"family\s+emergency", r"doctor'?s\s+appointment", r"at\s+a\s+conference",
        r"leaving\s+early", r"stuck\s+in\s+traffic", r"\blate\b", r"leaving", r"out\s+today", r"out\s+tomorrow",

        # blocked time, or no bookings on someone: "block me 2-4", "nobody book me before noon"
        r"block\s+(?:off\s+)?(?:me|my)", r"block\s+n+\s+(?:from|out|off)",
        r"(?:don'?t|do\s+not)\s+(?:book|schedule)\s+(?:anything|anyone|anybody)\s+(?:before|after|until|till|between|from)",
        NO_BOOKING_ON,
    ],
    "cancel": [
        r"cancel(?:l?ed|l?ing|lation)?", r"call\s+off", r"scratch", r"drop\s+(?:the|her|his|their|my)", r"can'?t\s+make\s+(?:it|her|his)",
        # someone taken off the schedule: "take Jamie off friday", "remove her from group"
        r"take\s+\S+(?:\s+\S+)?\s+off", r"remove", r"drop\s+\S+(?:\s+\S+)?\s+from", r"off\s+the\s+books", r"come\s+off",
        r"no\s+need\s+for",
    ],
    "reschedule": [
        r"re[-\s]?schedul(?:e|ed|ing)", r"resched", r"move", r"moving", r"push(?:\s+back)?", r"bump", r"shift",
        r"change\s+(?:the\s+)?time", r"switch", r"different\s+time", r"another\s+time", r"instead",
        # "no showed, rebook her for tues", "tyler 2pm -> 4pm": every writer's move
        r"re-?book(?:ed|ing)?", r"->", r"→",
    ],
    "book": [
        r"book(?:ed|ing)?", r"schedule", r"put\s+\S+(?:\s+\S+)?\s+(?:in|on|down)", r"set\s+up", r"pencil\s+in",
        r"sign\s+\S+\s+up", r"add\s+\S+(?:\s+\S+)?\s+to", r"get\s+\S+(?:\s+\S+)?\s+in\s+with", r"reserve", r"lock\s+in",
        r"make\s+an?\s+(?:appt|appointment)",
    ],
    "find_slot": [
        r"find", r"slots?", r"openings?", r"availability", r"available", r"free", r"options?", r"open\s+times?",
        r"any\s*(?:thing|one|time)\s+(?:open|free)", r"when\s+can", r"who\s+can\s+see", r"look(?:ing)?\s+for",
        r"need(?:s)?\s+(?:a|an)", r"got\s+anything", r"any\s+room", r"search",
        r"can\s+(?:\S+\s+){1,3}?(?:see|do|fit|take)",
    ],
    "schedule_lookup": [
        r"what'?s\s+on", r"what\s+(?:do|does|is)\s+(?:\S+\s+){1,3}?(?:have|got)", r"(?:my|the|his|her|their)\s+schedule",
        r"schedule\s+(?:for|today|tomorrow)", r"agenda", r"calendar", r"who\s+(?:is|am|are)\s+(?:\S+\s+){1,3}?seeing",
        r"who'?s\s+(?:\S+\s+){1,3}?seeing", r"who\s+do\s+i\s+have", r"when\s+is\s+(?:\S+\s+){0,2}?\S+?(?:'s)?\s+next",
        r"when'?s\s+(?:\S+\s+){0,2}?\S+?(?:'s)?\s+next",
        r"appointments?\s+(?:for|today|tomorrow)", r"show\s+me", r"what\s+time\s+is", r"lookup", r"look\s+up",
        r"who'?s\s+on", r"who\s+is\s+on",
        # "whos working xmas eve", "who's in the office tmrw", "is anybody booked fri?"
        r"who(?:'?s|\s+is|\s+are)\s+(?:working|scheduled|in\s+(?:the\s+)?(?:office|clinic|building))",
        r"(?:is|are)\s+(?:any\s*body|any\s*one|someone|somebody)\s+(?:booked|scheduled|working)", r"next\s+(?:appt|appointment|session)", r"what\s+have\s+i\s+got", r"how\s+many\s+(?:appts|appointments|sessions)",
    ],
    "utilization_summary": [r"utili[sz]ation", r"summary", r"how\s+(?:was|were|did)", r"stats", r"report\s+on"],
    "compliance_report": [r"compliance", r"compliant", r"report", r"behind", r"audit"],
    "confirm": [
        r"yes", r"yep", r"yeah", r"yup", r"ya", r"sure", r"ok(?:ay)?", r"k", r"confirm(?:ed)?", r"sounds\s+good",
        r"go\s+(?:ahead|with)", r"do\s+it", r"book\s+it", r"perfect", r"works(?:\s+for\s+me)?", r"that\s+works",
        r"take\s+(?:it|that|the)", r"let'?s\s+do", r"great", r"👍", r"please\s+do", r"correct", r"lgtm", r"approved?",
    ],
    "decline": [
        r"no", r"nope", r"nah", r"none(?:\s+of\s+(?:those|these|them))?", r"neither", r"never\s*mind", r"nvm",
        r"don'?t", r"not\s+(?:those|that|these|now)", r"no\s+thanks", r"cancel\s+that", r"forget\s+it", r"skip",
        r"doesn'?t\s+work", r"don'?t\s+work", r"won'?t\s+work", r"pass",
    ],
    "help": [r"help", r"what\s+can\s+you\s+do", r"how\s+do\s+i", r"commands", r"usage", r"\?+$", r"what\s+do\s+you\s+do"],
}  # fmt: skip

ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
}  # fmt: skip
WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "half": 0.5, "half an": 0.5}

# Words that carry no meaning of their own for the coverage score.
FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "for",
        "to",
        "of",
        "in",
        "on",
        "at",
        "with",
        "by",
        "from",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "i",
        "i'm",
        "im",
        "me",
        "my",
        "we",
        "our",
        "us",
        "you",
        "your",
        "u",
        "ur",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "can",
        "could",
        "would",
        "will",
        "should",
        "please",
        "pls",
        "plz",
        "thanks",
        "thx",
        "ty",
        "hi",
        "hey",
        "hello",
        "yo",
        "team",
        "folks",
        "all",
        "some",
        "any",
        "just",
        "quick",
        "quickly",
        "also",
        "need",
        "needs",
        "want",
        "wants",
        "like",
        "get",
        "got",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "let",
        "let's",
        "lets",
        "see",
        "what",
        "whats",
        "when",
        "who",
        "how",
        "which",
        "where",
        "about",
        "up",
        "out",
        "off",
        "as",
        "so",
        "if",
        "then",
        "than",
        "into",
        "over",
        "really",
        "maybe",
        "kinda",
        "ok",
        "okay",
        "sorry",
        "fyi",
        "btw",
        "heads",
        "sir",
        "maam",
        "guys",
        "y'all",
        "todays",
        "has",
        "is's",
        "his",
        "her",
        "him",
        "she",
        "he",
        "they",
        "them",
        "their",
        "s",
        "one",
        "session",
        "sessions",
        "appt",
        "appointment",
        "appointments",
        "someone",
        "somebody",
        "anyone",
        "person",
        "patient",
        "pt",
        "client",
        "pts",
        "patients",
        "clients",
        "visit",
        "again",
        "too",
        "asap",
        "possible",
        "soon",
        "time",
        "times",
        "thing",
        "something",
    ]
)


def compile_table(table: dict[str, list[str]]) -> list[tuple[str, re.Pattern[str]]]:
    """One pattern per entry; phrases sorted longest-first so 'group therapy' beats 'group'."""
    out = []
    for key, phrases in table.items():
        alts = sorted(phrases, key=len, reverse=True)
        out.append((key, re.compile(r"(?<![\w'])(?:" + "|".join(alts) + r")(?![\w])")))
    return out


DURATION_RE = re.compile(
    r"(?<![\w:/])(?:(?P<n>\d+(?:\.\d+)?)\s*-?\s*(?P<u>minutes?|mins?|m|hours?|hrs?|h)\b"
    r"|(?P<w>an?|one|two|three|half\s+an?|half)\s*-?\s*(?P<u2>hours?|hrs?|hour)\b"
    r"|(?P<hh>an?|one)\s+hour\s+and\s+a\s+half"
    r"|(?P<hh2>\d+)\s+and\s+a\s+half\s+hours?)"
    r"(?!\s*(?:late|behind|early|ago|later))"
)
OPTION_RE = re.compile(
    r"(?<![\w])(?:option|opt|choice|slot|number|no\.|#)\s*#?\s*(?P<n>\d{1,2})\b"
    r"|(?<![\w])(?:option|opt|choice|number)\s+(?P<ord3>one|two|three|four|five)\b"
    r"|(?<![\w])(?P<ord>first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)\s+(?:one|option|slot|choice)\b"
    # "the 2nd" is an option, but "off the 2nd", "on the 3rd", "thru the 5th" are days
    r"|(?<![\w])(?<!on\s)(?<!off\s)(?<!out\s)(?<!by\s)(?<!thru\s)(?<!through\s)(?<!until\s)"
    r"(?<!till\s)(?<!from\s)(?<!to\s)(?<!before\s)(?<!after\s)(?<!since\s)"
    r"the\s+(?P<ord2>first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th|(?P<n2>\d))(?:\s+one)?\b"
    r"|(?<![\w])(?:go\s+with|take|do|pick|choose|book|let'?s\s+do|let'?s\s+go\s+with)\s+#?(?P<n3>\d{1,2})\b(?!\s*(?:am|pm|:|min|hour))"
)
BARE_NUMBER_RE = re.compile(r"^\s*#?(?P<n>\d{1,2})[.!)]?\s*(?:please|pls|plz|thanks|thx)?[.!]?\s*$")
# A reply that is only a pick by its place or a bare "y": "1st", "first", "the last one", "that
# one 👌", "ok do the earliest one" (every development writer labels these a confirm).
BARE_PICK_RE = re.compile(
    r"^\W*(?:(?:ok|okay|yes|yeah|yep|sure)\W+)?(?:(?:do|take|go\s+with)\s+)?(?:the\s+)?"
    r"(?:(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th)|last|earliest|latest|later"
    r"|earlier|that|this)(?:\s+(?:one|option|slot|time))?(?:\W|_)*$"
    r"|^\W*(?:y|ya|yy)\W*$"
)


# -- requests versus questions (the record and attendance recognisers) ------------------------
# "can you admit ..." asks for a change; "can we discharge ...?" or "did Jamie no-show?" asks
# about one, and a question never changes a record.
_POLITE = re.compile(
    r"^[\W_]*(?:(?:ok(?:ay)?|so|hey|hi|pls|plz|please|can\s+(?:you|u)|could\s+(?:you|u)"
    r"|would\s+you|will\s+you|go\s+ahead\s+and)\b[\s,]*)+",
    re.I,
)
_ASKS = re.compile(
    r"^[\W_]*(?:does|do|did|is|are|was|were|has|have|had|what|which|who|whose|when|where|how"
    r"|why|should|can|could|shall|will|would|any|anyone|anybody|am\s+i)\b"
    r"|^[\W_]*\w+(?:'s|\s+is|\s+are)?\s+(?:still|already|yet)\b.*\?",
    re.I,
)
_ENDS_ASKING = re.compile(r"\?[\W_]*$")


def is_question(text: str) -> bool:
    """The message asks something rather than asking for something to be done."""
    polite = _POLITE.match(text)
    if polite and re.match(r"[\W_]*(?:can|could|would|will)\b", text, re.I):
        return False  # "can you add Jamie to DBT?" is a request
    rest = text[polite.end() :] if polite else text
    if _ASKS.match(rest):
        return True
    if not _ENDS_ASKING.search(text):
        return False
    # "Kara no-showed, can you mark it?": the question mark asks for the last clause only
    last = re.split(r"[,;.!]\s+|\s+-+\s+", text.strip())[-1]
    return not re.match(r"[\W_]*(?:can|could|would|will)\s+(?:you|u)\b", last, re.I)


# A correction inside the message ("PHP no wait IOP"): what follows the last marker counts.
CORRECTION_RE = re.compile(
    r"\b(?:no\s+wait|wait\s+no|scratch\s+that|i\s+mean|i\s+meant|sorry|actually|correction)\b"
    r"[\s,:-]*",
    re.I,
)


def after_correction(text: str) -> str | None:
    """The words after the last correction marker (None: the message corrects nothing)."""
    last = None
    for m in CORRECTION_RE.finditer(text):
        last = m
    return text[last.end() :] if last else None


# Groups by topic, as clinics name them ("add Jamie to DBT"): with these words the trailing
# "group" may be left out.
GROUP_TOPICS = (
    r"relapse[\s-]+prevention|early[\s-]+recovery(?:\s+skills)?|dbt(?:\s+skills)?"
    r"|seeking\s+safety|women'?s(?:\s+process)?|grupo(?:\s+de\s+recuperaci[oó]n)?"
    r"|mat\s+support|family\s+education|veterans?(?:\s+recovery)?|anger\s+management"
    r"|mindfulness(?:[\s-]+based\s+relapse\s+prevention)?|adolescent\s+skills"
)
