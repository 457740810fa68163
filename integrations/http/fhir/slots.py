"""Rota's open slots as FHIR Slots, and back: a Slot's id says whose time, which session type
and when, so a client may book it (Appointment.slot) or read it again without the server
keeping any state."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from assistant.usecases.open_slots import OpenSlot
from clinic.errors import NotFound
from integrations.fhir.mapping import FhirContext, schedule_id
from integrations.fhir.mapping.common import Json

STAMP = "%Y%m%d%H%M"
ESCAPE = {"-": "--", ".": "-d", "_": "-u", ":": "-c"}
"""Rota ids may hold `_`, `:` and `.`, FHIR ids not `_` or `:`: escaped with `-`, so `.` is free
to separate the id's three parts."""
UNESCAPE = {v[1]: k for k, v in ESCAPE.items()}


def _escape(rota_id: str) -> str:
    return "".join(ESCAPE.get(ch, ch) for ch in rota_id)


def _unescape(text: str) -> str:
    out, chars = [], iter(text)
    for ch in chars:
        out.append(UNESCAPE[next(chars)] if ch == "-" else ch)
    return "".join(out)


def slot_id(slot: OpenSlot) -> str:
    """`staff.session-type.UTC start` (`c003.individual.202612011400`): readable, and all a
    booking needs. FHIR ids hold at most 64 characters, enough for Rota's short ids."""
    stamp = f"{slot.start.astimezone(UTC):{STAMP}}"
    return f"{_escape(slot.staff)}.{_escape(slot.session_type)}.{stamp}"


def parse_slot_id(logical_id: str) -> tuple[str, str, datetime]:
    """(staff, session type, start) of a Slot id this server gave out; NotFound otherwise."""
    try:
        staff, session_type, stamp = logical_id.split(".")
        start = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
        return _unescape(staff), _unescape(session_type), start
    except (ValueError, KeyError, StopIteration) as exc:
        raise NotFound(f"no slot {logical_id!r}") from exc


def slot_to_fhir(slot: OpenSlot, ctx: FhirContext, tz: ZoneInfo) -> Json:
    """A free Slot on the clinician's Schedule (validated with the Bundle it travels in)."""
    service: Json = {"system": ctx.system("session-type"), "code": slot.session_type}
    if ctx.session_type_names.get(slot.session_type):
        service["display"] = ctx.session_type_names[slot.session_type]
    out: Json = {
        "resourceType": "Slot",
        "id": slot_id(slot),
        "schedule": {"reference": f"Schedule/{schedule_id('staff', slot.staff)}"},
        "status": "free",
        "serviceType": [{"coding": [service]}],
        "start": slot.start.astimezone(tz).isoformat(timespec="seconds"),
        "end": slot.end.astimezone(tz).isoformat(timespec="seconds"),
    }
    if slot.room:
        out["comment"] = f"room {slot.room} is free for it now (the booking may pick another)"
    return out
