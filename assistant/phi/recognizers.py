"""Recognizers for the Safe Harbor identifiers (PRIV-08), all deterministic and offline.

Roster-independent ones (`base_recognizers`) live in the shared analyzer; the roster-aware ones
(`roster_recognizers`: patients and family contacts with misspellings, the common-names
gazetteer, titled and related people, the roster's known identifier values) are built once per
roster and passed to each `analyze` call as ad-hoc recognizers. Staff names are deliberately kept.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from assistant.parse.names import (
    HONORIFICS,
    NameHit,
    Token,
    common_words,
    gazetteer,
    index_for,
    norm,
    tokenize,
)
from assistant.roster import Roster

DATA = Path(__file__).parent / "data"

ENTITIES = (
    "PATIENT", "PERSON", "DATE", "AGE", "PHONE", "FAX", "EMAIL", "ADDRESS", "ZIP", "SSN", "MRN",
    "MEMBER_ID", "ACCOUNT", "CASE_NUMBER", "LICENSE", "PLATE", "DEVICE", "URL", "IP", "ID",
)  # fmt: skip

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_CALENDAR_WORDS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "today",
        "tomorrow",
    ]
)
# Context words (looked for just before a number) that say which identifier it is.
_CONTEXT: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rf"\b(?:{words})\b[^\d]{{0,24}}$"))
    for kind, words in (
        ("FAX", r"fax"),
        ("SSN", r"ssn|social(?:\s+security)?|ss#"),
        ("MRN", r"mrn|mr#|medical\s+record|record|chart|emr\s+id|patient\s+id"),
        (
            "MEMBER_ID",
            r"member|medicaid|medicare|insurance|policy|subscriber|beneficiary|plan|payer"
            r"|auth(?:orization)?|group\s+(?:no|number|#)|bcbs|aetna|cigna|tricare",
        ),
        ("ACCOUNT", r"account|acct|billing|invoice|card"),
        ("CASE_NUMBER", r"case|docket|court|probation|parole|warrant|citation|booking|inmate"),
        ("LICENSE", r"licen[cs]e|dl|driver'?s?|certificate|cert|permit|npi|dea"),
        ("PLATE", r"plate|tag|vehicle|car|truck|van|vin"),
        ("DEVICE", r"serial|device|imei|s/n|sn|mac"),
        ("ZIP", r"zip|zipcode|postal"),
        ("PHONE", r"phone|cell|call|text|tel|mobile|number|#|reach|contact"),
    )
)
# Billing codes are clinical vocabulary, not identifiers: CPT psychiatry/E&M ranges and HCPCS.
_CLINICAL_CODE = re.compile(r"^(?:90[78]\d\d|9613\d|99[2-4]\d\d|[HGT]\d{4})$")
_UNIT_SUFFIX = re.compile(r"^\d+(?:min|mins|hr|hrs|h|m|am|pm|st|nd|rd|th|x|mg|ml|mcg|k)$", re.I)
_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH"
    "|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
_STREET_SUFFIX = (
    r"st|street|ave|avenue|rd|road|blvd|boulevard|ln|lane|dr|drive|ct|court|way|pl|place|ter"
    r"|terrace|pkwy|parkway|cir|circle|hwy|highway|sq|square|trl|trail|loop|row"
)
_NOT_STREET_WORDS = frozenset(
    [
        "with",
        "and",
        "for",
        "at",
        "to",
        "on",
        "in",
        "am",
        "pm",
        "the",
        "min",
        "mins",
        "minutes",
        "hour",
        "hours",
        "patients",
        "people",
        "sessions",
        "or",
        "of",
        "by",
        "from",
        "slot",
        "slots",
        "group",
        "groups",
    ]
)


def _result(kind: str, start: int, end: int, score: float, source: str) -> RecognizerResult:
    return RecognizerResult(
        kind,
        start,
        end,
        score,
        recognition_metadata={"source": source},  # Presidio adds the recognizer's own id
    )


def context_kind(text: str, start: int, default: str) -> str:
    """The identifier type named just before `start` ("MRN 123...", "fax: 555-..."), else default."""
    before = text[max(0, start - 40) : start].lower()
    best: tuple[int, str] | None = None
    for kind, pattern in _CONTEXT:
        m = pattern.search(before)
        if m and (best is None or m.start() > best[0]):
            best = (m.start(), kind)
    return best[1] if best else default


class _Recognizer(EntityRecognizer):
    """Base for our regex-and-rules recognizers: no NLP artifacts needed."""

    ENTITIES: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__(supported_entities=list(self.ENTITIES), name=type(self).__name__)

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [r for r in self.find(text) if not entities or r.entity_type in entities]

    def find(self, text: str) -> list[RecognizerResult]:
        raise NotImplementedError


class NumberRecognizer(_Recognizer):
    """Phones and faxes, SSNs, ZIPs, MRNs, member/account/case/licence numbers, plates, serials:
    any long number or letter-digit code, typed by the words just before it."""

    ENTITIES = ("PHONE", "FAX", "SSN", "ZIP", "MRN", "MEMBER_ID", "ACCOUNT", "CASE_NUMBER",
                "LICENSE", "PLATE", "DEVICE", "ID")  # fmt: skip
    PHONE = re.compile(
        r"(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,5})?(?!\d)"
        r"|(?<![\w])\+\d{10,15}(?!\d)"
        r"|(?<![\w+])\+\d{1,3}(?:[\s.-]\d{1,4}){2,5}(?![\w-])"  # international: +44 20 7946 0958
        r"|(?<![\w.+:/-])\d{3}[\s.-]\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,5})?(?![\w:/-]|\.\d)"  # local: 555-0142
    )
    SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])|(?<!\d)\d{3}\s\d{2}\s\d{4}(?!\d)")
    ZIP = re.compile(rf"(?<=\b(?:{_STATES})\s)\d{{5}}(?:-\d{{4}})?\b|(?<![\w.-])\d{{5}}-\d{{4}}\b")
    PREFIXED = re.compile(
        r"\b(?:mrn|mr#|acct|account|member|policy|case|docket|license|licence|plate|serial|id)"
        r"\s*(?:#|no\.?|num(?:ber)?|id)?\s*[:#]?\s*(?P<v>[A-Za-z]*\d[A-Za-z0-9-]{2,})",
        re.I,
    )
    SSN_PART = re.compile(
        r"\b(?:ssn|social(?:\s+security)?)\b[^\d\n]{0,20}(?:last\s+(?:4|four)\D{0,3})?(?P<v>\d{4,9})\b",
        re.I,
    )
    CARD = re.compile(r"(?<![\d-])(?:\d{4}[ -]){3}\d{1,7}(?![\d-])")
    DIGITS = re.compile(r"(?<![\w.:/$-])\d{5,}(?![\w/:-]|\.\d)")
    CODE = re.compile(
        r"(?<![\w-])(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+(?![\w-])|(?<![\w-])(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{5,}(?![\w-])"
    )
    PLATE = re.compile(
        r"\b(?:plate|tag)s?\s*(?:#|no\.?|number)?\s*[:#]?\s*(?P<v>[A-Z0-9]{2,4}[\s-]?[A-Z0-9]{2,4})\b",
        re.I,
    )

    def find(self, text: str) -> list[RecognizerResult]:
        out: list[RecognizerResult] = []
        for m in self.PHONE.finditer(text):
            if _clock_range(m.group()) and context_kind(text, m.start(), "RANGE") == "RANGE":
                continue  # "930-1030": a session's times, unless "call"/"cell" comes before
            kind = context_kind(text, m.start(), "PHONE")
            kind = (
                kind
                if kind in ("FAX", "SSN", "MRN", "MEMBER_ID", "LICENSE", "ACCOUNT")
                else "PHONE"
            )
            out.append(_result(kind, m.start(), m.end(), 0.85, "phone"))
        for m in self.SSN.finditer(text):
            out.append(_result("SSN", m.start(), m.end(), 0.9, "ssn"))
        for m in self.ZIP.finditer(text):
            out.append(_result("ZIP", m.start(), m.end(), 0.8, "zip"))
        for m in self.PREFIXED.finditer(text):
            kind = context_kind(text, m.start("v"), "ID")
            out.append(_result(kind, m.start("v"), m.end("v"), 0.9, "prefixed-id"))
        for m in self.SSN_PART.finditer(text):
            out.append(_result("SSN", m.start("v"), m.end("v"), 0.9, "ssn-part"))
        for m in self.CARD.finditer(text):
            out.append(_result("ACCOUNT", m.start(), m.end(), 0.9, "card"))
        for m in self.PLATE.finditer(text):
            out.append(_result("PLATE", m.start("v"), m.end("v"), 0.9, "plate"))
        for pattern, score in ((self.DIGITS, 0.6), (self.CODE, 0.6)):
            for m in pattern.finditer(text):
                value = m.group()
                if _CLINICAL_CODE.match(value) or _UNIT_SUFFIX.match(value):
                    continue
                if sum(ch.isdigit() for ch in value) < (3 if "-" in value else 2):
                    continue  # "30-day", "12-step"
                default = (
                    "ZIP"
                    if re.fullmatch(r"\d{5}", value) and _zip_context(text, m.start())
                    else "ID"
                )
                kind = context_kind(text, m.start(), default)
                if kind in ("PHONE", "FAX") and len(re.sub(r"\D", "", value)) < 7:
                    kind = "ID"
                out.append(_result(kind, m.start(), m.end(), score, "number"))
        return out


_QUARTER_CLOCK = re.compile(r"(?:0?[1-9]|1\d|2[0-3])(?:00|15|30|45)")


def _clock_range(value: str) -> bool:
    """Two clock times on the quarter hour joined by a dash ("930-1030", "800-1200"): a time
    range. A local number whose halves both read so ("215-1030") is rare; the words before it
    ("call", "cell") still make it a phone."""
    parts = re.fullmatch(r"(\d{3,4})-(\d{4})", value)
    return bool(parts and _QUARTER_CLOCK.fullmatch(parts[1]) and _QUARTER_CLOCK.fullmatch(parts[2]))


def _zip_context(text: str, start: int) -> bool:
    before = text[max(0, start - 30) : start]
    return bool(re.search(rf"(?:\b(?:{_STATES})|,)\s*$", before) or "zip" in before.lower())


class DateRecognizer(_Recognizer):
    """Every absolute calendar date (Safe Harbor (C)): 3/14/1962, 2025-02-03, Dec 3, 3rd of May,
    March 1962, 'the 14th'. Weekdays, relative days and clock times are not dates here."""

    ENTITIES = ("DATE",)
    PATTERNS = tuple(
        re.compile(p, re.I)
        for p in (
            r"(?<![\w/.-])\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?![\w/-])",
            r"(?<![\w/.:-])(?:0?[1-9]|1[0-2])[/.-](?:0?[1-9]|[12]\d|3[01])[/.-](?:\d{4}|\d{2})(?![\w/-])",
            r"(?<![\w/.:-])(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])(?![\w/]|\s*(?:hours?|hrs?|doses?|tabs?|mg))",
            rf"\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?",
            rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b\.?(?:,?\s+\d{{4}})?",
            rf"\b{_MONTH}\.?,?\s+\d{{4}}\b",
            r"(?<=\bthe\s)\d{1,2}(?:st|nd|rd|th)\b(?!\s+(?:option|one|slot|choice|floor|session|time|visit|week|day|grade|place))",
        )
    )

    def find(self, text: str) -> list[RecognizerResult]:
        out = []
        for pattern in self.PATTERNS:
            for m in pattern.finditer(text):
                verb = m.group().startswith("may ")  # "may 2" is the verb; "May 2" a date
                if verb and not re.search(r"\d{4}|\d(?:st|nd|rd|th)", m.group()):
                    continue
                out.append(_result("DATE", m.start(), m.end(), 0.9, "date"))
        return out


class AgeRecognizer(_Recognizer):
    """Ages over 89 and birth years that reveal them (Safe Harbor (C))."""

    ENTITIES = ("AGE", "DATE")
    AGE = re.compile(
        r"\b(?:age[ds]?\s+(?P<a>\d{2,3})|(?P<b>\d{2,3})\s*-?\s*(?:y/?o|yo|yrs?\s+old|years?[-\s]old|year[-\s]old|years?\s+of\s+age))\b",
        re.I,
    )
    BORN = re.compile(
        r"\b(?:born|b\.|dob|birth\s+year)\s*(?:in\s+)?(?P<y>(?:18|19|20)\d{2})\b", re.I
    )

    def find(self, text: str) -> list[RecognizerResult]:
        out = []
        for m in self.AGE.finditer(text):
            if int(m.group("a") or m.group("b")) >= 90:
                out.append(_result("AGE", m.start(), m.end(), 0.9, "age"))
        for m in self.BORN.finditer(text):
            if date.today().year - int(m.group("y")) >= 90:
                out.append(_result("DATE", m.start("y"), m.end("y"), 0.9, "birth-year"))
        return out


class AddressRecognizer(_Recognizer):
    """Street addresses, PO boxes, apartment numbers, 'City, ST', and 'lives in <Town>'."""

    ENTITIES = ("ADDRESS",)
    STREET = re.compile(
        rf"(?<![\w:/])\d{{1,6}}[A-Za-z]?\s+(?P<words>(?:[A-Za-z0-9.'-]+\s+){{0,3}}?)(?P<suffix>{_STREET_SUFFIX})\b\.?"
        rf"(?:,?\s+(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*[A-Za-z0-9-]+)?",
        re.I,
    )
    OTHER = tuple(
        re.compile(p)
        for p in (
            r"\b[Pp]\.?\s?[Oo]\.?\s+[Bb]ox\s+\d+\b",
            r"\b(?:[Aa]pt|[Aa]partment|[Uu]nit|[Ss]uite|[Ss]te)\.?\s*#?\s*\d+[A-Za-z]?\b",
            rf"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,\s*(?:{_STATES})\b(?:\s+\d{{5}}(?:-\d{{4}})?)?",
            r"\b(?:lives|living|resides|residing|staying|moved|relocated|located)\s+(?:in|to|at)\s+"
            r"(?P<v>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)",
            r"\baddress\s+(?:is|of)\s+(?P<v>\S[^,.;\n]{2,40})",
        )
    )

    def find(self, text: str) -> list[RecognizerResult]:
        out = []
        for m in self.STREET.finditer(text):
            words = m.group("words").lower().split()
            if any(w in _NOT_STREET_WORDS for w in words):
                continue
            if m.group("suffix").lower() == "dr" and re.match(
                r"\.?\s+[A-Z]", text[m.end("suffix") :]
            ):
                continue  # "at 3 with Dr Raman": a title, not Drive
            out.append(_result("ADDRESS", m.start(), m.end(), 0.85, "street"))
        for pattern in self.OTHER:
            for m in pattern.finditer(text):
                group = "v" if "v" in pattern.groupindex else 0
                first = m.group(group).split()[0].lower()
                if group == "v" and (first in _CALENDAR_WORDS or first in common_words()):
                    continue  # "moved to Friday", "moved to Group"
                out.append(_result("ADDRESS", m.start(group), m.end(group), 0.8, "address"))
        return out


def web_recognizers() -> list[EntityRecognizer]:
    """E-mail, URL, IP and MAC addresses as Presidio pattern recognizers (no tldextract use)."""
    email = PatternRecognizer(
        supported_entity="EMAIL",
        name="email",
        patterns=[Pattern("email", r"\b[\w.+'-]+@[\w-]+(?:\.[\w-]+)+\b", 0.95)],
    )
    url = PatternRecognizer(
        supported_entity="URL",
        name="url",
        patterns=[
            Pattern("url-scheme", r"\b(?:https?|ftp)://[^\s<>\"']*[^\s<>\"'.,;:!?)]", 0.9),
            Pattern("url-www", r"\bwww\.[^\s<>\"']*[^\s<>\"'.,;:!?)]", 0.9),
            Pattern(
                "url-bare",
                r"(?<![@\w.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|us|info|biz|health|me|co)\b(?:/[^\s]*[^\s.,;:!?)])?",
                0.6,
            ),
        ],
    )
    ip = PatternRecognizer(
        supported_entity="IP",
        name="ip",
        patterns=[
            Pattern(
                "ipv4",
                r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b",
                0.85,
            ),
            Pattern("ipv6", r"\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b", 0.85),
            Pattern("ipv6-short", r"\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4})?\b", 0.6),
        ],
    )
    mac = PatternRecognizer(
        supported_entity="DEVICE",
        name="mac",
        patterns=[Pattern("mac", r"\b(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}\b", 0.85)],
    )
    # A loose numeric date scores 0.2 and passes the 0.4 threshold only near a birth word; the
    # lemmatizer turns "born" into "bear", so both are listed (stack.md §2).
    dob = PatternRecognizer(
        supported_entity="DATE",
        name="dob-context",
        patterns=[Pattern("loose-date", r"\b\d{1,2}[\s.]\d{1,2}[\s.]\d{2,4}\b", 0.2)],
        context=["dob", "born", "bear", "birth", "birthday", "birthdate", "d.o.b"],
    )
    return [email, url, ip, mac, dob]


def base_recognizers() -> list[EntityRecognizer]:
    return [
        NumberRecognizer(),
        DateRecognizer(),
        AgeRecognizer(),
        AddressRecognizer(),
        *web_recognizers(),
    ]


# -- roster-aware ----------------------------------------------------------------------------


_RELATION = re.compile(
    r"\b(?:mom|mother|dad|father|sister|brother|wife|husband|son|daughter|aunt|uncle|grandma"
    r"|grandmother|grandpa|grandfather|grandson|granddaughter|partner|girlfriend|boyfriend|fianc[eé]e?"
    r"|spouse|cousin|niece|nephew|guardian|sponsor|roommate|employer|boss|officer|po|caseworker"
    r"|worker|contact|landlord|neighbor|neighbour|friend|lawyer|attorney|patient|pt|client"
    r"|resident|named|called|mr|mrs|ms|miss|mx)\b\.?,?\s+"
    r"(?:is\s+|named\s+)?(?:(?:mr|mrs|ms|miss|mx|dr)\.?\s+)?"
    r"(?P<name>[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?)",
    re.I,
)
_TITLED = re.compile(r"\b(?:Dr|Doctor)\.?\s+(?P<name>[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?)")


class PeopleRecognizer(_Recognizer):
    """Patients and their family contacts from the roster (misspellings and nicknames forgiven),
    then anyone else: common first/last names, 'her mom Linda', 'Mrs. Ortiz', 'Dr. Someone'
    who is not on staff. Staff names are kept (they are the facility's, not the patient's)."""

    ENTITIES = ("PATIENT", "PERSON")

    def __init__(self, roster: Roster) -> None:
        super().__init__()
        self.index = index_for(roster)
        self.staff_tokens = frozenset(
            t for p in self.index.people if p.kind == "staff" for t in p.tokens
        )
        self.patient_tokens = frozenset(
            t for p in self.index.people if p.kind != "staff" for t in p.tokens
        )
        self.first, self.last = gazetteer()
        from assistant.parse.lexicon import FILLER

        self.skip = _CALENDAR_WORDS | FILLER | HONORIFICS

    def find(self, text: str) -> list[RecognizerResult]:
        out: list[RecognizerResult] = []
        tokens = tokenize(text)
        covered: list[tuple[int, int]] = []
        hits = list(self.index.find(text, tokens, strict=True))
        for hit in hits:
            kinds = {p.kind for p in hit.people}
            if kinds == {"staff"} or (hit.titled and "staff" in kinds):
                surname = self._surname_after(text, tokens, hit)
                if surname is None or hit.titled or hit.full:
                    covered.append((hit.start, hit.end))  # a clinician: kept
                    continue
                # "Kevin Marsh": a staff first name, but someone else's surname follows
                out.append(_result("PERSON", hit.start, hit.end, 0.8, "staff-namesake"))
                covered.append((hit.start, hit.end))
                if not any(h.start < surname and hit.end < h.end for h in hits):
                    out.append(_result("PERSON", surname - len(text[hit.end + 1 : surname]),
                                       surname, 0.8, "staff-namesake"))  # fmt: skip
                    covered.append((hit.end + 1, surname))
                continue
            label = "PATIENT" if "patient" in kinds else "PERSON"
            score = 0.5 if hit.initials else 0.95 if hit.exact else 0.85
            result = _result(label, hit.start, hit.end, score, "roster")
            ids = sorted({p.id for p in hit.people if p.kind != "staff"})
            result.recognition_metadata["patient_ids"] = ids
            out.append(result)
            covered.append((hit.start, hit.end))

        def free(a: int, b: int) -> bool:
            return all(b <= s or a >= e for s, e in covered)

        for pattern in (_TITLED, _RELATION):
            for m in pattern.finditer(text):
                a, b = m.start("name"), m.end("name")
                raw = m.group("name").split()
                words = [norm(w) for w in raw]
                if not raw[0][:1].isupper() or words[0] in self.skip:
                    continue  # the relation word matched case-insensitively; the name must not
                if any(w in self.staff_tokens for w in words) and (
                    pattern is _TITLED or not any(w in self.patient_tokens for w in words)
                ):
                    continue
                if words[0] == "box":
                    continue  # "PO Box 12" is an address
                if len(words) == 2 and (
                    words[1] in self.skip or not raw[1][:1].isupper() or not free(a, b)
                ):
                    b = a + len(raw[0])
                if free(a, b):
                    out.append(_result("PERSON", a, b, 0.85, "context-name"))
                    covered.append((a, b))
        run: list[tuple[int, int]] = []
        for tok in tokens:
            if self._gazetteer_name(tok.text, tok.key) and free(tok.start, tok.end):
                if run and text[run[-1][1] : tok.start].strip() == "":
                    run[-1] = (run[-1][0], tok.end)
                else:
                    run.append((tok.start, tok.end))
        out += [_result("PERSON", a, b, 0.75, "gazetteer") for a, b in run]
        return out

    def _surname_after(self, text: str, tokens: list[Token], hit: NameHit) -> int | None:
        """End of a capitalised, non-staff word right after `hit`, if there is one."""
        nxt = next((t for t in tokens if t.start >= hit.end), None)
        if nxt is None or text[hit.end : nxt.start] != " " or not nxt.text[:1].isupper():
            return None
        if nxt.key in self.staff_tokens or nxt.key in self.skip:
            return None
        return nxt.end

    def _gazetteer_name(self, word: str, key: str) -> bool:
        if len(key) < 3 or key in self.skip or key in self.staff_tokens:
            return False
        if key not in self.first and key not in self.last:
            return False
        if word[:1].isupper():
            return True
        return key not in common_words()


class KnownValuesRecognizer(_Recognizer):
    """The roster's own identifier values (MRNs, phones, e-mails, case and member numbers),
    matched verbatim wherever they appear, whatever their format."""

    ENTITIES = ("MRN", "PHONE", "EMAIL", "CASE_NUMBER", "MEMBER_ID")

    def __init__(self, roster: Roster) -> None:
        super().__init__()
        self.kinds: dict[str, str] = {}
        for patient in roster.patients:
            for kind, value in patient.identifiers:
                if len(value) >= 4:
                    self.kinds[value.lower()] = kind
        alts = sorted(self.kinds, key=len, reverse=True)
        self.pattern = (
            re.compile(r"(?<![\w])(?:" + "|".join(re.escape(a) for a in alts) + r")(?![\w])", re.I)
            if alts
            else None
        )

    def find(self, text: str) -> list[RecognizerResult]:
        if self.pattern is None:
            return []
        return [
            _result(self.kinds[m.group().lower()], m.start(), m.end(), 1.0, "known-value")
            for m in self.pattern.finditer(text)
        ]


def roster_recognizers(roster: Roster) -> list[EntityRecognizer]:
    cached = roster._cache.get("phi_recognizers")
    if cached is None:
        cached = roster._cache["phi_recognizers"] = [
            PeopleRecognizer(roster),
            KnownValuesRecognizer(roster),
        ]
    return cached
