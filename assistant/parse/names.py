"""Roster-aware name finding: full names, a first or last name alone, "Dr. Raman", initials,
nicknames ("Bill" for William) and misspellings ("Jaime" for Jamie).

Misspellings use a deletion-neighbourhood index (the SymSpell idea): every name token is stored
under each of its variants with up to `d` letters deleted, so a typed token finds its candidates
with a handful of dictionary look-ups, then a true edit distance confirms them. Shared by the
parser and by the PHI redactor (`index_for(roster)`).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Literal

from assistant.roster import Roster

DATA = Path(__file__).parent / "data"
GAZETTEER = Path(__file__).parents[1] / "phi" / "data"
Kind = Literal["patient", "staff", "family"]

_L = r"[^\W\d_]"  # any letter, accented ones included ("José", "Zoë")
TOKEN_RE = re.compile(rf"{_L}(?:{_L}|['’.-])*{_L}|{_L}\.?")
TITLES = frozenset({"dr", "doctor", "doc"})
HONORIFICS = frozenset({"dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof"})
# Short upper-case tokens that are abbreviations, never initials.
_NOT_INITIALS = frozenset(
    [
        "am",
        "pm",
        "md",
        "do",
        "np",
        "rn",
        "pa",
        "ok",
        "dx",
        "tx",
        "rx",
        "cm",
        "pt",
        "id",
        "er",
        "ed",
        "iv",
        "im",
        "uds",
        "mat",
        "iop",
        "php",
        "op",
        "ft",
        "pto",
        "ooo",
        "asap",
        "eod",
        "cod",
        "sud",
        "oud",
        "aud",
        "lcsw",
        "lpc",
        "lmft",
        "cadc",
        "lcadc",
        "psyd",
        "phd",
        "hr",
        "min",
        "wk",
        "mh",
        "bh",
        "gp",
        "ot",
        "st",
        "hi",
        "yo",
    ]
)


def norm(token: str) -> str:
    """Lowercase letters without accents: "O'Neil" → "oneil", "José" → "jose"."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", token.lower()) if ch.isalpha())


@cache
def nicknames() -> dict[str, frozenset[str]]:
    """Both directions: formal → nicknames and nickname → formal names (and fellow nicknames)."""
    groups: dict[str, set[str]] = {}
    for line in (DATA / "nicknames.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        formal, _, rest = line.partition(":")
        names = {formal.strip(), *(n.strip() for n in rest.split(",") if n.strip())}
        for name in names:
            groups.setdefault(name, set()).update(names - {name})
    return {k: frozenset(v) for k, v in groups.items()}


# Words of a treatment centre's day that are not among the most frequent English words but are
# never a person's name: without them "in the lobby" could be read as a misspelled "Bobby".
_CLINIC_WORDS = frozenset(
    {"lobby", "detox", "detoxing", "rehab", "withdrawal", "suicidal", "overdose", "relapse",
     "relapsed", "sober", "triage", "walkin", "intake", "intakes", "caseload", "waitlist",
     "telehealth", "reception", "receptionist", "methadone", "suboxone", "vivitrol", "narcan"}
)  # fmt: skip


@cache
def common_words() -> frozenset[str]:
    lines = (DATA / "common_words.txt").read_text().splitlines()
    return frozenset(w for w in lines if w and not w.startswith("#")) | _CLINIC_WORDS


@cache
def gazetteer() -> tuple[frozenset[str], frozenset[str]]:
    """Common first and last names (the redactor's, assistant/phi/data): people not on the
    roster are still people."""

    def read(name: str) -> frozenset[str]:
        lines = (GAZETTEER / name).read_text().splitlines()
        return frozenset(w for w in lines if w and not w.startswith("#"))

    return read("first_names.txt"), read("last_names.txt")


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a transposition counts 1), cut off above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def max_edits(token: str) -> int:
    """Typos allowed: none under 4 letters, one up to 7, two from 8."""
    n = len(token)
    return 0 if n < 4 else 1 if n < 8 else 2


def _deletions(token: str, d: int) -> set[str]:
    out = {token}
    for k in range(1, d + 1):
        for idx in combinations(range(len(token)), k):
            out.add("".join(ch for i, ch in enumerate(token) if i not in idx))
    return out


@dataclass(frozen=True)
class Person:
    kind: Kind
    id: str  # the patient id for a family contact
    name: str
    tokens: tuple[str, ...]
    doctor: bool = False

    @property
    def first(self) -> str:
        return self.tokens[0]

    @property
    def last(self) -> str:
        return self.tokens[-1]


@dataclass(frozen=True)
class NameHit:
    start: int
    end: int
    text: str
    people: tuple[Person, ...]
    exact: bool  # False when a misspelling was forgiven
    titled: bool = False  # "Dr. Raman"
    full: bool = False  # first and last name together
    initials: bool = False  # "J.R."


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str
    key: str  # norm(text)
    possessive: bool = False  # "bill's": a name, even when the word is common


def tokenize(text: str) -> list[Token]:
    out = []
    for m in TOKEN_RE.finditer(text):
        word, end, possessive = m.group(), m.end(), False
        if len(word) > 3 and word[-2] in "'’" and word[-1] in "sS":  # possessive: "Raman's"
            word, end, possessive = word[:-2], end - 2, True
        out.append(Token(m.start(), end, word, norm(word), possessive))
    return out


class NameIndex:
    """Every way a roster person may be named, with O(1) exact and near-O(1) fuzzy look-ups."""

    def __init__(self, roster: Roster) -> None:
        people: list[Person] = []
        for p in roster.patients:
            people.append(Person("patient", p.id, p.name, self._tokens(p.name)))
            people += [Person("family", p.id, f, self._tokens(f)) for f in p.family]
        people += [
            Person("staff", s.id, s.name, self._tokens(s.name), s.is_doctor) for s in roster.staff
        ]
        self.people = [p for p in people if p.tokens]
        self.by_token: dict[str, set[int]] = {}
        self.by_first: dict[str, set[int]] = {}
        self.by_initials: dict[str, set[int]] = {}
        nick = nicknames()
        for i, person in enumerate(self.people):
            first = person.first
            for form in {first, *nick.get(first, ())}:
                self.by_first.setdefault(form, set()).add(i)
                self.by_token.setdefault(form, set()).add(i)
            for tok in person.tokens[1:]:
                self.by_token.setdefault(tok, set()).add(i)
            if len(person.tokens) >= 2 and person.kind != "family":
                initials = person.first[0] + person.last[0]
                self.by_initials.setdefault(initials, set()).add(i)
        self._fuzzy: dict[str, set[str]] = {}
        for tok in self.by_token:
            for variant in _deletions(tok, max_edits(tok)):
                self._fuzzy.setdefault(variant, set()).add(tok)

    @staticmethod
    def _tokens(name: str) -> tuple[str, ...]:
        """Name tokens without honorifics or credentials: "Dr. Mario Hernandez, MD" → mario, hernandez."""
        name = name.split(",")[0]
        tokens = [t for t in (norm(w) for w in name.split()) if t]
        while tokens and tokens[0] in HONORIFICS:
            tokens.pop(0)
        return tuple(tokens)

    def exact(self, key: str) -> set[int]:
        return self.by_token.get(key, set())

    def fuzzy(self, key: str) -> set[int]:
        """People with a name token within the allowed edit distance of `key` (not exact)."""
        d = max_edits(key)
        if d == 0:
            return set()
        found: set[int] = set()
        seen: set[str] = set()
        for variant in _deletions(key, d):
            for tok in self._fuzzy.get(variant, ()):
                if tok in seen or tok == key:
                    continue
                seen.add(tok)
                if edit_distance(key, tok, min(d, max_edits(tok) or 1)) <= min(d, max_edits(tok)):
                    found |= self.by_token[tok]
        return found

    def lookup(self, key: str, *, allow_fuzzy: bool) -> tuple[set[int], bool]:
        hits = self.exact(key)
        if hits:
            return hits, True
        return (self.fuzzy(key) if allow_fuzzy else set()), False

    def find(
        self, text: str, tokens: list[Token] | None = None, *, strict: bool = False
    ) -> Iterator[NameHit]:
        """Every roster mention in `text`, left to right, longest first. `strict` (redaction)
        also reads capitalised everyday words at a sentence start as names ("Bill is late")."""
        tokens = tokens if tokens is not None else tokenize(text)
        common = common_words()
        i = 0
        while i < len(tokens):
            hit = self._hit_at(text, tokens, i, common, strict)
            if hit is None:
                i += 1
                continue
            yield hit
            i = next((j for j, t in enumerate(tokens) if t.start >= hit.end), len(tokens))

    def _hit_at(
        self, text: str, tokens: list[Token], i: int, common: frozenset[str], strict: bool
    ) -> NameHit | None:
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        gap = text[tok.end : nxt.start] if nxt is not None else "x"
        adjacent = gap.strip(" ,") == ""
        # "Dr. Raman", "Doctor Priya Raman"
        if tok.key in TITLES and gap.strip(" .") == "" and nxt is not None:
            people, exact = self._person_tokens(tokens, i + 1, common, titled=True)
            staff = tuple(self.people[k] for k in people if self.people[k].kind == "staff")
            if staff:
                end = self._span_end(tokens, i + 1, len(people) > 0, text)
                doctors = tuple(p for p in staff if p.doctor) or staff
                return NameHit(tok.start, end, text[tok.start : end], doctors, exact, titled=True)
        # "Jamie Rivera", "jaime rivera", and "Bill Turner" (an everyday word + their surname)
        if adjacent and nxt is not None:
            if self._is_word(tok, common, text, strict):
                first, e1 = self.exact(tok.key), True
                if not any(nxt.key in self.people[k].tokens[1:] for k in first):
                    first = set()
            else:
                first, e1 = self.lookup(tok.key, allow_fuzzy=True)
            if first:
                second, e2 = self.lookup(
                    nxt.key, allow_fuzzy=not self._is_word(nxt, common, text, strict)
                )
                both = {
                    k
                    for k in first & second
                    if nxt.key in self.people[k].tokens[1:] or self._near(nxt.key, self.people[k])
                }
                if both:
                    people = tuple(self.people[k] for k in sorted(both))
                    return NameHit(
                        tok.start, nxt.end, text[tok.start : nxt.end], people, e1 and e2, full=True
                    )
        # initials: "J.R." or "JR"
        initials = self._initials(tok, text)
        if initials and initials in self.by_initials:
            people = tuple(self.people[k] for k in sorted(self.by_initials[initials]))
            return NameHit(tok.start, tok.end, tok.text, people, True, initials=True)
        if self._is_word(tok, common, text, strict):
            return None
        hits, exact = self.lookup(tok.key, allow_fuzzy=tok.key not in common)
        if not hits:
            return None
        people = tuple(self.people[k] for k in sorted(hits))
        return NameHit(tok.start, tok.end, tok.text, people, exact)

    def _person_tokens(
        self, tokens: list[Token], i: int, common: frozenset[str], titled: bool
    ) -> tuple[set[int], bool]:
        tok = tokens[i]
        hits, exact = self.lookup(tok.key, allow_fuzzy=True)
        if i + 1 < len(tokens):
            more, e2 = self.lookup(tokens[i + 1].key, allow_fuzzy=True)
            if hits & more:
                return hits & more, exact and e2
        return hits, exact

    def _span_end(self, tokens: list[Token], i: int, found: bool, text: str) -> int:
        tok = tokens[i]
        if i + 1 < len(tokens) and text[tok.end : tokens[i + 1].start].strip() == "":
            people_a = self.lookup(tok.key, allow_fuzzy=True)[0]
            people_b = self.lookup(tokens[i + 1].key, allow_fuzzy=True)[0]
            if people_a & people_b:
                return tokens[i + 1].end
        return tok.end

    def _near(self, key: str, person: Person) -> bool:
        d = max_edits(key)
        return d > 0 and any(edit_distance(key, t, d) <= d for t in person.tokens[1:])

    @staticmethod
    def _is_word(tok: Token, common: frozenset[str], text: str, strict: bool) -> bool:
        """An everyday word ("will", "mark") is a name only when capitalised mid-sentence."""
        if tok.key not in common or tok.possessive:
            return False
        if not tok.text[:1].isupper():
            return True
        if strict:
            return False
        before = text[: tok.start].rstrip()
        return before == "" or before[-1] in ".!?:\n"

    @staticmethod
    def _initials(tok: Token, text: str) -> str | None:
        m = re.fullmatch(r"([A-Z])\.\s?([A-Z])\.?|([A-Z])([A-Z])", tok.text)
        if not m or tok.key in _NOT_INITIALS:
            return None
        around = text[max(0, tok.start - 1) : tok.start] + text[tok.end : tok.end + 1]
        if any(ch in "-/_#" or ch.isdigit() for ch in around):
            return None  # part of a code such as CR-2025-0042
        return (m.group(1) or m.group(3)).lower() + (m.group(2) or m.group(4)).lower()


_LOCK = threading.Lock()


def index_for(roster: Roster) -> NameIndex:
    """The roster's NameIndex, built once per Roster object."""
    cached = roster._cache.get("names")
    if cached is None:
        with _LOCK:
            cached = roster._cache.get("names")
            if cached is None:
                cached = roster._cache["names"] = NameIndex(roster)
    return cached


def ids(people: Iterable[Person]) -> list[str]:
    return sorted({p.id for p in people})
