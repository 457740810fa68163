"""Living-record requests in a message: admit, discharge, update (level of care, phase), a new
payer authorization, a Part 2 consent recorded or revoked, a transfer to another program of a
network.

The request-frame contract's intents are about appointments; these requests keep the intent the
contract gives them ("unknown" when none fits) and name what was asked in the frame's `action`,
with what the words said in `details`. Recognisers are strict (a verb and its object), so a
question such as "authorization status for Jamie" stays a compliance report.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from assistant.parse import lexicon as lx

ACTIONS = (
    "admit_patient",
    "discharge_patient",
    "update_patient",
    "add_authorization",
    "record_consent",
    "revoke_consent",
    "transfer_patient",
)
CONFIDENCE = 0.9
"""A recognised record request is understood: no model is asked to guess it again."""

# Words for ASAM levels of care (the level-of-care pack's codes).
LEVELS: list[tuple[str, str]] = [
    (r"(?:level|asam|loc)\s+(?P<code>[0-4](?:\.\d)?(?:\s*-?\s*wm)?)", ""),
    # A bare ASAM code ("admit ... 3.7-WM", "LOC to 1.0"): only the pack's codes, never "2.3".
    (r"(?P<code>0\.5|1\.0|2\.1|2\.5|3\.1|3\.3|3\.5|3\.7(?:\s*-?\s*wm)?|4\.0)", ""),
    (r"(?:iop|intensive\s+outpatient)", "2.1"),
    (r"(?:php|partial\s+hospitali[sz]ation|day\s+treatment)", "2.5"),
    (r"low[-\s]intensity\s+residential", "3.1"),
    (r"(?:residential|rtc|inpatient\s+rehab)", "3.5"),
    (r"(?:detox|withdrawal\s+management|medically\s+monitored\s+withdrawal)", "3.7-WM"),
    (r"(?:op|outpatient|standard\s+outpatient)", "1.0"),
    (r"early\s+intervention", "0.5"),
]
_LEVEL = [(re.compile(rf"(?<![\w-])(?:{p})(?![\w-])"), code) for p, code in LEVELS]
PHASES = {
    "intake": "intake",
    "stabili[sz]ation": "stabilization",
    "active\\s+treatment": "active_treatment",
    "maintenance": "maintenance",
    "withdrawal\\s+management\\s+phase": "withdrawal_management",
}
PAYERS = (
    r"medicaid|medicare|aetna|cigna|tricare|humana|kaiser|anthem|optum|magellan"
    r"|blue\s+cross(?:\s+blue\s+shield)?|bcbs|united\s*health\s*care|uhc|self[-\s]pay"
)
_PAYER = re.compile(rf"\b(?P<payer>{PAYERS})\b")
_UNITS = re.compile(
    r"\b(?P<n>\d{1,4})\s+(?:(?:more|additional|add'?l|extra|new|iop|php|op|group|individual"
    r"|therapy|outpatient)\s+)?(?:units?|sessions?|visits?)\b"
)
_MON = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DATE = (
    rf"(?:(?P<mon>{_MON})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?"
    r"|(?P<iso>\d{4}-\d{2}-\d{2})"
    r"|(?P<m2>\d{1,2})/(?P<d2>\d{1,2})(?:/(?P<y2>\d{2,4}))?)"
)
_UNTIL = re.compile(rf"\b(?:through|thru|until|till|til|to|ending|ends|expires?)\s+{_DATE}")
_FROM = re.compile(rf"\b(?:from|starting|starts|effective)\s+{_DATE}")
_REASON = re.compile(r"(?:\bbecause\b|\breason:?|\bdue\s+to\b|[,;:-]\s)\s*(?P<why>.+)$", re.I)

# What a request may start with before its verb ("ok", "pls", "can u", "go ahead and").
_LEAD = (
    r"^[\W_]*(?:(?:ok(?:ay)?|so|hey|pls|plz|please|can\s+(?:you|u)|could\s+(?:you|u)"
    r"|go\s+ahead\s+and|need\s+to|let'?s|we\s+(?:need|have)\s+to|we'?re|we\s+are|i'?m|i\s+am"
    r"|gonna|going\s+to)\b[\s,]*)*"
)
_ADMIT = re.compile(
    rf"{_LEAD}(?:admit(?:ting)?|new\s+patient:?|intake\s+new\s+patient)\s+(?P<rest>.+)$", re.I
)
_DC = r"(?:discharg(?:e|ing|ed)|d/c(?:'?d)?|dc(?:'?d)?)"
_DISCHARGE = re.compile(rf"{_LEAD}{_DC}(?:\s*[:-]\s*|\s+)(?:pt\s+|patient\s+)?(?P<rest>.+)$", re.I)
# "Wendy Short is being discharged today", "... completed treatment, please discharge (her)"
_DISCHARGE_LATE = re.compile(
    r"(?:\b(?:is|are|has\s+been|have\s+been|needs\s+to\s+be|is\s+to\s+be|is\s+being)\s+"
    rf"(?:being\s+)?discharged\b(?!\s+(?:from|to)\s+(?:the\s+)?hospital)"
    rf"|[,;.-]\s*(?:so\s+)?(?:please|pls|ok\s+to|go\s+ahead\s+and)\s+{_DC}(?:\s+(?:him|her|them))?"
    r"[\s.!]*$"
    rf"|[,;.-]\s*(?:so\s+)?{_DC}\s+(?:him|her|them)\b)",
    re.I,
)
_NOT_DISCHARGE = re.compile(
    rf"\b{_DC}\s+(?:summary|summaries|plan|planning|paperwork|papers|date|criteria|meeting"
    r"|note|notes|instructions|packet|form)\b"
    r"|\b(?:don'?t|do\s+not|not|never|can'?t|cannot|shouldn'?t)\s+(?:yet\s+)?"
    rf"(?:be\s+)?{_DC}",
    re.I,
)
_CHANGE_CUE = re.compile(
    r"\b(?:step(?:s|ped|ping)?|move[sd]?|moving|transfer(?:red)?|change[sd]?|level\s+of\s+care"
    r"|loc|phase|is\s+now|now\s+in|now|bump(?:s|ed|ing)?|update[sd]?|switch(?:e[sd])?)\b|->|→"
)
_INTO = re.compile(
    r"(?:\b(?:to|into|in|is\s+now)|->|→)\s+(?:the\s+)?(?:level\s+of\s+care\s+)?(?:asam\s+)?"
    r"(?=(?P<rest>.+)$)"
)
_NEW_AUTH = re.compile(
    r"\b(?:new|add(?:ed)?|got|approved|renewed)\b.*\b(?:auth(?:orization)?s?|prior\s+auth)\b"
    r"|\b(?:auth(?:orization)?)\s+(?:approved|came\s+(?:back|through))\b"
    r"|\bauth(?:orization)?\s+(?:back|through)\b"
    r"|\bauth(?:orization)?\b.{0,40}?\b(?:approved|came\s+(?:back|through)|went\s+through)\b",
    re.I,
)
# "UHC approved 15 sessions", "tricare renewed ... 21 more units": a payer said to approve.
_PAYER_APPROVED = re.compile(
    r"\b(?:approved|renewed|extended|authori[sz]ed|gave|granted)\b(?!\s+(?:yet|\?))", re.I
)
_CONSENT = re.compile(
    r"\bconsent(?:s|ed)?\b|\broi\b|\brelease\s+of\s+(?:information|info)\b"
    r"|\bsigned\s+(?:a\s+|an\s+|the\s+)?(?:release|roi)\b",
    re.I,
)
# Consent wanted, not given ("need consent from Jamie before we talk to probation").
_CONSENT_WANTED = re.compile(
    r"\b(?:need|needs|needed|get|getting|obtain|waiting\s+(?:on|for)|missing|without|no|ask"
    r"|asking|request|requesting)\s+(?:a\s+|an\s+|the\s+|her\s+|his\s+|their\s+)?(?:new\s+|signed\s+)?"
    r"(?:consent|roi|release)\b",
    re.I,
)
_REVOKE = re.compile(
    r"\b(?:revok(?:e|ed|es)|withdr[ae]w(?:s|n)?|pulled|no\s+longer\s+consents?)\b", re.I
)
_RECIPIENT = re.compile(
    r"\b(?:share|sharing|disclose|disclosing|release|talk|speak|send|information)?\s*"
    r"(?:with|to|for)\s+(?:(?:his|her|their|the)\s+)?(?P<who>[a-z][\w:-]*(?:\s+officer)?)",
    re.I,
)
_INFORMATION = {
    r"attendance": "attendance",
    r"schedule|appointments?": "schedule",
    r"progress|treatment\s+progress": "treatment progress",
    r"diagnos[ie]s": "diagnosis",
    r"(?:drug\s+)?(?:test|screen|uds)\s+results?": "drug test results",
}
_KNOWN_RECIPIENTS = {
    "probation officer": "probation",
    "po": "probation",
    "parole": "probation",
    "court": "court",
    "judge": "court",
}


def recognise(frame: dict[str, Any], text: str, now: datetime) -> None:
    """Name the living-record request in `frame` (adds `action` and `details`), if any. A
    question ("does Jamie have consent to share with probation?") asks for none."""
    if lx.is_question(text):
        return
    found = _admit(frame, text, now) or _discharge(frame, text) or _consent(frame, text, now)
    found = (
        found or _authorization(frame, text, now) or _transfer(frame, text) or _update(frame, text)
    )
    if found is None:
        return
    action, details = found
    frame["action"] = action
    frame["details"] = details
    frame["intent"] = "unknown"  # the contract has no intent for a record change
    frame["confidence"] = max(frame["confidence"], CONFIDENCE)


# -- recognisers -----------------------------------------------------------------------------


Found = tuple[str, dict[str, Any]] | None


def _admit(frame: dict[str, Any], text: str, now: datetime) -> Found:
    m = _ADMIT.match(text)
    if m is None:
        return None
    rest = m.group("rest")
    name = _leading_name(rest) or _lowercase_name(rest)
    details: dict[str, Any] = {"name": name}
    low = text.lower()
    level = _level_corrected(low)
    if level:
        details["level_of_care"] = level
    if frame.get("needs"):
        details["needs"] = list(frame["needs"])
    staff = frame.get("staff") or {}
    if staff.get("id") and staff.get("text", "").lower() not in (name or "").lower():
        details["primary_clinician"] = staff["id"]  # not "Diaz" of the new "Rosa Diaz"
    auth = authorization_details(low, now)
    self_pay = str((auth or {}).get("payer", "")).lower().replace("-", " ") == "self pay"
    if auth and self_pay and "units" not in auth:
        auth = None  # a self-paying patient has no authorization to ask units and dates of
    if auth and ("payer" in auth or "units" in auth):
        details["authorization"] = auth
    return "admit_patient", details


def _discharge(frame: dict[str, Any], text: str) -> Found:
    m = _DISCHARGE.match(text)
    if m is None and not (frame.get("patient") and _DISCHARGE_LATE.search(text)):
        return None
    if _NOT_DISCHARGE.search(text):
        return None
    if not frame.get("patient"):
        return None  # "dc the 3pm"? who is meant is asked again
    tail = lx.after_correction(text)
    if tail is not None and re.search(rf"\b{_DC}\b", tail, re.I):
        return None  # "discharge A no wait ... discharge B": who is meant is asked again
    details: dict[str, Any] = {}
    name_end = _name_end(frame, text)
    if m is None and name_end is not None:
        # "Kara moved to Ohio, discharge her": the reason is said before the request
        late = _DISCHARGE_LATE.search(text, name_end)
        why = text[name_end : late.start() if late else len(text)].strip(" ,;:.!-")
        why = re.sub(r"^(?:'s|’s)\s+", "", why)  # "Shaun Blair's last day is today"
        if why and not re.match(r"(?:is|are|has|have|needs)\b", why, re.I):
            details["reason"] = why
        return "discharge_patient", details
    reason = _REASON.search(text[name_end:]) if name_end is not None else None
    if reason and reason.group("why").strip(" .!"):
        details["reason"] = reason.group("why").strip(" .!")
    return "discharge_patient", details


def _consent(frame: dict[str, Any], text: str, now: datetime) -> Found:
    if not _CONSENT.search(text) or _CONSENT_WANTED.search(text):
        return None
    low = text.lower()
    details: dict[str, Any] = {}
    who = recipient_of(_without_patient(frame, text))
    if who:
        details["recipient"] = who
    if _REVOKE.search(text):
        return "revoke_consent", details
    info = information_of(low)
    if info:
        details["information"] = info
    until = _UNTIL.search(low)
    if until:
        day = _date(until, now.date())
        if day:
            details["until"] = day.isoformat()
    return "record_consent", details


def _authorization(frame: dict[str, Any], text: str, now: datetime) -> Found:
    low = _without_patient(frame, text).lower()  # "Sarah Kaiser" is no payer
    if not _UNITS.search(low):
        return None
    payer_said = _PAYER.search(low) and _PAYER_APPROVED.search(low)
    if not (_NEW_AUTH.search(low) or payer_said):
        return None
    return "add_authorization", authorization_details(low, now) or {}


def _update(frame: dict[str, Any], text: str) -> Found:
    """A new level of care or phase: a change word, then "to"/"in" and the level or phase
    ("step Jamie down to OP", "Jamie is now in maintenance phase")."""
    low = text.lower()
    if not frame.get("patient"):
        return None
    if not (_CHANGE_CUE.search(low) or _NAME_TO.match(_masked(frame, low))):
        return None
    details: dict[str, Any] = {}
    tail = lx.after_correction(low)
    for m in [*_INTO.finditer(tail or ""), *_INTO.finditer(low)]:
        rest = m.group("rest")
        level = level_of(rest)
        if level and "level_of_care" not in details and _starts_with(rest, _LEVEL):
            details["level_of_care"] = level
        for pattern, phase in PHASES.items():
            explicit = re.match(rf"(?:{pattern})\s+phase\b", rest)
            if re.match(rf"(?:{pattern})\b", rest) and (explicit or phase != "intake"):
                details.setdefault("phase", phase)
    return ("update_patient", details) if details else None


# "transfer Jamie Lee to Bayview", "transfer pt Jamie to the south site for IOP": the verb, the
# patient right after it, then "to" and where. Where is another program of the network, never
# a level of care ("transfer Jamie to IOP" is a new level: _update), a time or a session.
_TRANSFER = re.compile(
    rf"{_LEAD}transfer(?:ring)?\s+(?:pt\s+|patient\s+)?@@\s+(?:over\s+)?to\s+(?:the\s+)?"
    r"(?P<to>.+?)[\s.!]*$"
)
_TRANSFER_TAIL = re.compile(r"\s+(?:for|because|since|as|due\s+to)\s+|\s*[,;:]\s*|\s+-+\s+")
_SITE_WORD = re.compile(r"\s+(?:site|program|programme|facility|campus|clinic|location)$")
_NOT_A_SITE = re.compile(
    r"\d|\b(?:today|tomorrow|tonight|morning|afternoon|evening|next|this|mon|tue|wed|thu|fri"
    r"|sat|sun)\w*\b|\b(?:session|appointment|visit|group|slot|dr|doctor)\b"
)


def _transfer(frame: dict[str, Any], text: str) -> Found:
    if not frame.get("patient"):
        return None
    m = _TRANSFER.match(_masked(frame, text.lower()))
    if m is None:
        return None
    where, *rest = _TRANSFER_TAIL.split(m.group("to"), maxsplit=1)
    where = _SITE_WORD.sub("", where.strip())
    if not where or level_of(where) or _NOT_A_SITE.search(where):
        return None
    details: dict[str, Any] = {"to": where}
    tail = rest[0].strip(" .!") if rest else ""
    if tail and _starts_with(tail, _LEVEL):
        details["level_of_care"] = level_of(tail)
    elif tail:
        at = text.lower().rfind(tail)  # the reason as written ("moved near Bayview")
        details["reason"] = text[at : at + len(tail)] if at >= 0 else tail
    return "transfer_patient", details


# "Darlene Reed to OP starting monday": the patient, then "to" and a level, nothing before.
_NAME_TO = re.compile(r"^[\W_]*@@(?:'s)?\s+(?:to|->|→)\s+")


def _masked(frame: dict[str, Any], low: str) -> str:
    mention = ((frame.get("patient") or {}).get("text") or "").lower()
    return low.replace(mention, "@@", 1) if mention else low


def _without_patient(frame: dict[str, Any], text: str) -> str:
    mention = (frame.get("patient") or {}).get("text")
    if not mention:
        return text
    return re.sub(re.escape(mention) + r"(?:'s|’s)?", " ", text, count=1)


def _level_corrected(low: str) -> str | None:
    """The level the words end up naming ("PHP no wait IOP" is IOP)."""
    tail = lx.after_correction(low)
    return (level_of(tail) if tail else None) or level_of(low)


def _starts_with(text: str, table: list[tuple[re.Pattern[str], str]]) -> bool:
    return any(pattern.match(text) for pattern, _ in table)


# -- pieces ----------------------------------------------------------------------------------


def level_of(low: str) -> str | None:
    """The first level of care the text names, as the pack's code."""
    best: tuple[int, str] | None = None
    for pattern, code in _LEVEL:
        for m in pattern.finditer(low):
            value = code or re.sub(r"\s*-?\s*WM$", "-WM", m.group("code").upper())
            if value and re.fullmatch(r"[0-4]", value):
                value += ".0"
            if best is None or m.start() < best[0]:
                best = (m.start(), value)
    return best[1] if best else None


def authorization_details(low: str, now: datetime) -> dict[str, Any] | None:
    """The payer, units and dates of an authorization the words name (None: none of them)."""
    out: dict[str, Any] = {}
    payer = _PAYER.search(low)
    if payer:
        out["payer"] = _payer_name(payer.group("payer"))
    units = _UNITS.search(low)
    if units:
        out["units"] = int(units.group("n"))
    until = _UNTIL.search(low)
    if until and (day := _date(until, now.date())):
        out["end"] = day.isoformat()
    start = _FROM.search(low)
    if start and (day := _date(start, now.date())):
        out["start"] = day.isoformat()
    period = _period(low, now.date())
    if period and "start" not in out:
        out["start"], out["end"] = period[0].isoformat(), period[1].isoformat()
    return out or None


_ANY_DATE = re.compile(rf"\b{_DATE}")
_RANGE_SEP = re.compile(r"\s*(?:-|–|to|through|thru|until|till)\s*")


def _period(low: str, today: date) -> tuple[date, date] | None:
    """'12/1-2/28', 'Dec 1 to Feb 28': two dates joined as a period (the end after the start)."""
    found = list(_ANY_DATE.finditer(low))
    for a, b in pairwise(found):
        if _RANGE_SEP.fullmatch(low[a.end() : b.start()]):
            start, end = _date(a, today), _date(b, today)
            if start and end:
                if end < start:
                    end = end.replace(year=end.year + 1)
                return start, end
    return None


def _payer_name(raw: str) -> str:
    words = " ".join(raw.split())
    special = {
        "tricare": "TRICARE",
        "bcbs": "Blue Cross Blue Shield",
        "blue cross": "Blue Cross Blue Shield",
        "uhc": "UnitedHealthcare",
    }
    if words in special:
        return special[words]
    if words.replace(" ", "") == "unitedhealthcare":
        return "UnitedHealthcare"
    return " ".join(w.capitalize() for w in re.split(r"[\s]+", words))


def _date(m: re.Match[str], today: date) -> date | None:
    """A date the words name; without a year, the first such day on or after today."""
    try:
        if m.group("iso"):
            return date.fromisoformat(m.group("iso"))
        if m.group("mon"):
            month, day, year = _MONTHS[m.group("mon")[:3]], int(m.group("d")), m.group("y")
        else:
            month, day, year = int(m.group("m2")), int(m.group("d2")), m.group("y2")
        if year:
            y = int(year) + (2000 if len(year) == 2 else 0)
            return date(y, month, day)
        candidate = date(today.year, month, day)
        return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


_NAME_STOP = {
    "to", "into", "in", "for", "at", "with", "on", "today", "tomorrow", "level", "asam", "pt",
    "patient", "him", "her", "them", "the", "a", "an", "new", "this", "that", "someone", "asap",
}  # fmt: skip


def _lowercase_name(rest: str) -> str | None:
    """'admit maria lopez to IOP': two or three plain words before a stop ('to', ',', end),
    capitalised as a record's name."""
    m = re.match(r"\s*([a-z][a-z'’-]+(?:\s+[a-z][a-z'’-]+){1,2})(?=\s*(?:[,.;:!-]|$|\s+\w))", rest)
    if m is None:
        return None
    words = []
    for word in m.group(1).split():
        if word in _NAME_STOP or word in _NOT_NAMES or level_of(word):
            break
        words.append(word)
    if not 2 <= len(words) <= 3:
        return None
    return " ".join(w[:1].upper() + w[1:] for w in words)


def _leading_name(rest: str) -> str | None:
    """The capitalised words a request starts with ("Maria Lopez to IOP" → "Maria Lopez")."""
    words = []
    for word in re.split(r"\s+", rest.strip()):
        clean = word.strip(",.;:!")
        if not clean or not clean[0].isupper() or clean.lower() in _NOT_NAMES:
            break
        words.append(clean)
        if clean != word:  # punctuation ends the name
            break
    return " ".join(words) or None


_NOT_RECIPIENTS = {
    "the", "his", "her", "their", "me", "us", "him", "them", "share", "sharing", "disclose",
    "disclosing", "release", "talk", "speak", "send", "information", "info", "to", "a", "an",
    "for", "with", "revoke", "revoking", "withdraw", "sign", "signing", "give", "be", "have",
}  # fmt: skip
_NOT_NAMES = {"iop", "php", "op", "medicaid", "medicare", "to", "level", "for", "with"}


def _name_end(frame: dict[str, Any], text: str) -> int | None:
    patient = frame.get("patient") or {}
    mention = patient.get("text")
    if not mention:
        return None
    at = text.find(mention)
    return at + len(mention) if at >= 0 else None


def information_of(low: str) -> str | None:
    """What a consent lets be shared, in the words of `_INFORMATION` ("attendance, schedule")."""
    info = [v for p, v in _INFORMATION.items() if re.search(rf"\b(?:{p})\b", low)]
    return ", ".join(dict.fromkeys(info)) or None


def recipient_of(text: str) -> str | None:
    for m in _RECIPIENT.finditer(text):
        who = m.group("who").strip().lower()
        if who in _NOT_RECIPIENTS:
            continue
        return _KNOWN_RECIPIENTS.get(who, who)
    # "consent revoked - Elisa Armas - probation": a known recipient named anywhere
    known = re.search(r"\b(probation\s+officer|probation|parole|po|court|judge)\b", text, re.I)
    return _KNOWN_RECIPIENTS.get(known.group(1).lower(), known.group(1).lower()) if known else None
