"""Every common way a phone number is written is redacted (issue 16), and times, ranges, room
numbers and billing codes that look like digits are not."""

from __future__ import annotations

import pytest

from assistant.phi import Redactor, redactor_for
from tests.nlu.roster_data import roster

PHONES = [
    ("call her at 555-0142 after 5", "555-0142"),
    ("his cell is 555 0142", "555 0142"),
    ("mom's number 555.0142", "555.0142"),
    ("reach him on 5550142 tonight", "5550142"),
    ("pt's phone (973) 555-0142", "(973) 555-0142"),
    ("phone (973)555-0142 pls", "(973)555-0142"),
    ("new number 973-555-0142 ext. 12", "973-555-0142 ext. 12"),
    ("work line 973 555 0142 x204", "973 555 0142 x204"),
    ("text 973.555.0142 the reminder", "973.555.0142"),
    ("+1 973 555 0142 is her cell", "+1 973 555 0142"),
    ("+1-973-555-0142 (dad)", "+1-973-555-0142"),
    ("1 (800) 555-0199 is the sponsor's", "1 (800) 555-0199"),
    ("his number is +44 20 7946 0958 while abroad", "+44 20 7946 0958"),
    ("call back at 555-0142 x3", "555-0142 x3"),
    ("sister: 9735550142", "9735550142"),
    ("call me at 215-1030 if the group moves", "215-1030"),
]

KEPT = [
    "group moved to 930-1030 on thursday",
    "IOP runs 9-12 mon wed fri",
    "book room 101 for 2:30-3:30",
    "billed 90837 and H0015 this week",
    "she needs 3 sessions, 45 min each, 2x a week",
    "the 1030-1130 slot in Group Room A",
    "dose is 8 mg, 2 tabs",
    "from 800-1200 on the 14th floor",
]


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return redactor_for(roster())


@pytest.mark.parametrize(("text", "phone"), PHONES)
def test_every_phone_form_is_redacted(redactor: Redactor, text: str, phone: str) -> None:
    redacted = redactor.redact(text).text
    digits = [d for d in phone if d.isdigit()]
    assert phone not in redacted, redacted
    left = "".join(ch for ch in redacted if ch.isdigit())
    assert "".join(digits)[-4:] not in left, redacted  # not even the last four survive


@pytest.mark.parametrize("text", KEPT)
def test_times_ranges_rooms_and_codes_are_kept(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text).text == text
