"""The facility exchanged with other systems (an EHR over FHIR): the whole facility as a file
(an export is a disclosure: authorized and audited), a file loaded into an empty database, and
one record at a time into a living one through the living record's own use cases (admit,
update, add staff, book, move, cancel, set status), with what a server import remembers: which
server resource each record came from, the version last seen, and how far each sync got.

A record changed in Rota since it was last imported is a conflict: reported, never overwritten.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assistant.access import authorize
from assistant.usecases import appointments, groups, patients, staff
from assistant.wiring import load_facility_file
from clinic import access_log
from clinic.audit import append_event
from clinic.booking import AppointmentView, view_of
from clinic.db import Database
from clinic.errors import InvalidInput, LikelyDuplicate, RotaError
from clinic.facility_file.export import facility_data, group_record, patient_record, staff_record
from clinic.fhir_models import FhirCursor, FhirLink
from clinic.models import Appointment, Facility, Group, Staff
from clinic.timeutil import now_utc
from clinic.tokens import Caller

Record = dict[str, Any]
KINDS = ("staff", "patients", "groups", "appointments", "rooms", "session_types")


# --- the whole facility ------------------------------------------------------------------------


def export_file(db: Database, caller: Caller, *, channel: str = "fhir") -> Record:
    """The facility as a facility file, for another system: the `export` permission, and an
    audit event saying how much went out and over which channel."""
    authorize(db, caller, "export")
    with db.session() as session:
        data = facility_data(session)
        append_event(
            session,
            actor=caller.staff_id,
            action="facility.export",
            entity_type="facility",
            entity_id=data["facility"]["name"][:64],
            after={
                "channel": channel,
                "patients": len(data.get("patients", [])),
                "appointments": len(data.get("appointments", [])),
            },
        )
    exported = [p["id"] for p in data.get("patients", [])]
    access_log.record_reads(db, caller, access_log.EXPORT, exported, detail={"channel": channel})
    return data


def is_empty(db: Database) -> bool:
    with db.read() as session:
        return session.scalar(select(Facility.id).limit(1)) is None


def load_file(
    db: Database, caller: Caller, data: Record, *, source: str, as_of: date | None = None
) -> dict[str, int]:
    """A whole facility into an empty database, as `rota load` does (one transaction; its
    appointments still to happen booked through the rules as the caller)."""
    if not is_empty(db):
        raise InvalidInput("this database already holds a facility")
    return load_facility_file(db, data, actor=caller.staff_id, source=source, as_of=as_of)


# --- one record at a time ----------------------------------------------------------------------


@dataclass(frozen=True)
class Remote:
    """Where a record came from: one resource, at one version, on one server."""

    server: str
    resource_type: str
    fhir_id: str
    version_id: str | None = None
    last_updated: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One record of the facility file's `kind` to bring in; `record` None: the server deleted
    it (410, or entered in error); `label` names the resource in messages."""

    kind: str
    record: Record | None
    label: str
    remote: Remote | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one incoming record: created, updated, unchanged, cancelled (deleted on
    the server), conflict (changed in Rota since the last import; left as it is), refused (a
    rule or a check said no: `detail` says why) or skipped (Rota does not take it this way)."""

    label: str
    result: str
    rota_id: str | None = None
    detail: str | None = None

    def as_record(self) -> Record:
        return {k: v for k, v in vars(self).items() if v is not None}


# Fields a server sync does not bring in (they change in Rota on their own: units used, leave),
# left out of the digest so they never read as a conflicting local change.
NOT_SYNCED = {
    "patients": frozenset({"authorizations", "family_contacts"}),
    "staff": frozenset({"unavailable"}),
    "rooms": frozenset({"unavailable"}),
}


def digest(kind: str, record: Record | None) -> str | None:
    """A fingerprint of what a sync brings in of a record (to tell a change made in Rota)."""
    if record is None:
        return None
    kept = {k: v for k, v in record.items() if k not in NOT_SYNCED.get(kind, frozenset())}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


def local_digest(db: Database, kind: str, rota_id: str) -> str | None:
    """The digest of a Rota record as it is now: what FHIR write-back stores after writing it
    to the server, so the next import does not take Rota's own change for a conflict."""
    return digest(kind, local_record(db, kind, rota_id))


def known_ids(db: Database, server: str) -> dict[tuple[str, str], str]:
    """(resource type, server id) → Rota id, for every resource imported from `server`."""
    with db.read() as session:
        rows = session.execute(
            select(FhirLink.resource_type, FhirLink.fhir_id, FhirLink.rota_id).where(
                FhirLink.server == server
            )
        ).all()
    return {(t, f): r for t, f, r in rows}


def apply(db: Database, caller: Caller, item: Incoming) -> Outcome:
    """Bring one record in. From a server, the link says which Rota record it is: a newer
    version updates it unless Rota changed it since (conflict), the same version is
    unchanged. Without a server (a Bundle file), the record's own id does. Every write goes
    through the living record's use case; one refused is reported and the rest go on."""
    link = _link(db, item.remote) if item.remote else None
    rota_id = link.rota_id if link else (item.record or {}).get("id")
    if item.kind not in KINDS:
        raise InvalidInput(f"{item.label}: unknown kind {item.kind!r}")
    local = local_record(db, item.kind, rota_id) if rota_id else None
    same_version = bool(
        link and item.remote and link.version_id and link.version_id == item.remote.version_id
    )
    if same_version and not (item.record is None and link and not link.deleted):
        return Outcome(item.label, "unchanged", rota_id)
    if (
        link
        and local is not None
        and link.record_digest
        and digest(item.kind, local) != link.record_digest
    ):
        return Outcome(
            item.label,
            "conflict",
            rota_id,
            "changed in Rota since it was last imported; the server's version was not applied",
        )
    try:
        result, rota_id = _write(db, caller, item, rota_id, local)
    except LikelyDuplicate as exc:
        return Outcome(item.label, "conflict", rota_id, str(exc))
    except RotaError as exc:
        problems = getattr(exc, "problems", [])
        return Outcome(item.label, "refused", rota_id, "; ".join([str(exc), *problems]))
    if item.remote and rota_id:
        after = local_record(db, item.kind, rota_id)
        _save_link(db, item.remote, rota_id, digest(item.kind, after), deleted=item.record is None)
    return Outcome(item.label, result, rota_id)


def _write(
    db: Database, caller: Caller, item: Incoming, rota_id: str | None, local: Record | None
) -> tuple[str, str | None]:
    record = item.record
    if record is None:
        return _delete(db, caller, item, rota_id, local)
    changes = {k: v for k, v in record.items() if k != "id"}
    if item.kind == "patients":
        if local is None:
            made = patients.admit(db, caller, patients.Admit(record, reason=_why(item)))
            return "created", made["id"]
        if changes.get("phase") == "discharged":  # a discharge is its own use case
            changes.pop("phase")
        if _same(local, changes):
            return "unchanged", rota_id
        patients.update(db, caller, patients.Update(str(rota_id), changes, reason=_why(item)))
        return "updated", rota_id
    if item.kind == "staff":
        if local is None:
            return "created", staff.add_staff(db, caller, staff.AddStaff(record))["id"]
        changes.pop("unavailable", None)  # absences are recorded as leave
        if _same(local, changes):
            return "unchanged", rota_id
        staff.update_staff(db, caller, staff.UpdateStaff(str(rota_id), changes))
        return "updated", rota_id
    if item.kind == "groups":
        if local is None:
            return "created", groups.create_group(db, caller, groups.CreateGroup(record))["id"]
        return ("unchanged" if _same(local, changes) else "skipped"), rota_id
    if item.kind == "appointments":
        return _appointment(db, caller, item, record, rota_id, local)
    if local is None:  # rooms and session types come with the facility file
        noun = {"rooms": "room", "session_types": "session type"}.get(item.kind, item.kind)
        raise InvalidInput(f"a new {noun} is added with the facility file, not by an import")
    return ("unchanged" if _same(local, changes) else "skipped"), rota_id


IMPORT_REASON = "FHIR import of"
"""How the reason of every change the import makes begins (FHIR write-back does not send those
back: they came from the EHR)."""


def _why(item: Incoming) -> str:
    where = f" from {item.remote.server}" if item.remote else ""
    return f"{IMPORT_REASON} {item.label}{where}"


def _same(local: Record, changes: Record) -> bool:
    return all(local.get(k) == v for k, v in changes.items())


def _appointment(
    db: Database,
    caller: Caller,
    item: Incoming,
    record: Record,
    rota_id: str | None,
    local: Record | None,
) -> tuple[str, str | None]:
    tz = db.facility_tz()
    start = datetime.fromisoformat(record["start"]).astimezone(tz)
    status = record.get("status", "booked")
    if local is None:
        if status in ("cancelled", "late_cancelled"):
            return "skipped", None  # nothing to book
        view = appointments.book(
            db,
            caller,
            appointments.Book(
                session_type=record["session_type"],
                start=start,
                staff=tuple(record["staff"]),
                patients=tuple(record["patients"]),
                room=record.get("room"),
                minutes=record["minutes"],
                group=record.get("group"),
                note=record.get("note"),
                pinned=bool(record.get("pinned")),
                reason=_why(item),
            ),
        )
        if status not in ("booked", "proposed"):
            appointments.set_status(
                db, caller, appointments.SetStatus(view.id, status, reason=_why(item))
            )
        return "created", view.id
    result = "unchanged"
    moved = (
        datetime.fromisoformat(local["start"]) != start
        or local["minutes"] != record["minutes"]
        or local["staff"] != record["staff"]
        or local.get("room") != record.get("room")
    )
    if moved and status not in ("cancelled", "late_cancelled"):
        appointments.move(
            db,
            caller,
            appointments.Move(
                str(rota_id),
                _why(item),
                start=start,
                staff=tuple(record["staff"]),
                room=record.get("room"),
                minutes=record["minutes"],
            ),
        )
        result = "updated"
    if status != local["status"]:
        if status in ("cancelled", "late_cancelled"):
            appointments.cancel(
                db,
                caller,
                appointments.Cancel(str(rota_id), _why(item), late=status == "late_cancelled"),
            )
        else:
            appointments.set_status(
                db, caller, appointments.SetStatus(str(rota_id), status, reason=_why(item))
            )
        result = "updated"
    return result, rota_id


def _delete(
    db: Database, caller: Caller, item: Incoming, rota_id: str | None, local: Record | None
) -> tuple[str, str | None]:
    """The server deleted it: a scheduled appointment is cancelled (through the booking
    service, so who must be told is told); other records stay (a person's record is not
    erased by a sync) and the link remembers the deletion."""
    if local is None or rota_id is None:
        return "skipped", rota_id
    if item.kind == "appointments" and local["status"] in ("proposed", "booked", "checked_in"):
        appointments.cancel(
            db, caller, appointments.Cancel(rota_id, f"deleted on the server: {_why(item)}")
        )
        return "cancelled", rota_id
    return "skipped", rota_id


# --- reading the local record and the links ----------------------------------------------------


def local_record(db: Database, kind: str, rota_id: str) -> Record | None:
    """One Rota record of a kind (the facility file's shape; an appointment as its view), or
    None; what the conflict check fingerprints."""
    tz = db.facility_tz()
    with db.read() as session:
        if kind == "patients":
            row = patients.find_patient(session, rota_id)
            return patient_record(row) if row else None
        if kind == "staff":
            srow = session.get(Staff, rota_id)
            return staff_record(srow, tz) if srow else None
        if kind == "groups":
            grow = session.get(Group, rota_id)
            return group_record(grow) if grow else None
        if kind == "appointments":
            arow = session.get(Appointment, rota_id)
            return _appointment_record(view_of(arow), tz) if arow else None
        data = facility_data(session, appointments=False)
        return next((r for r in data.get(kind, []) if r["id"] == rota_id), None)


def link_loaded(db: Database, links: list[tuple[str, Remote, str]]) -> None:
    """After a whole facility was loaded from a server: one link per (kind, resource, Rota
    id), each with the digest of the record as it was loaded."""
    tz = db.facility_tz()
    with db.session() as session:
        records = {kind: _all_local(session, kind, tz) for kind in {k for k, _, _ in links}}
        for kind, remote, rota_id in links:
            session.add(
                FhirLink(
                    server=remote.server,
                    resource_type=remote.resource_type,
                    fhir_id=remote.fhir_id,
                    rota_id=rota_id,
                    version_id=remote.version_id,
                    last_updated=remote.last_updated,
                    record_digest=digest(kind, records[kind].get(rota_id)),
                    deleted=False,
                    synced_at=now_utc(),
                )
            )


def _all_local(session: Any, kind: str, tz: Any) -> dict[str, Record]:
    """Every record of a kind as `local_record` reads one."""
    if kind == "appointments":
        rows = session.scalars(
            select(Appointment).options(
                selectinload(Appointment.staff_links), selectinload(Appointment.patient_links)
            )
        )
        return {r.id: _appointment_record(view_of(r), tz) for r in rows}
    data = facility_data(session, appointments=False)
    return {r["id"]: r for r in data.get(kind, [])}


def _appointment_record(view: AppointmentView, tz: Any) -> Record:
    return {
        "id": view.id,
        "session_type": view.session_type,
        "start": view.start.astimezone(tz).isoformat(),
        "minutes": view.minutes,
        "staff": list(view.staff),
        "patients": list(view.patients),
        "room": view.room,
        "group": view.group,
        "status": view.status,
        "pinned": view.pinned,
        "note": view.note,
        "outcomes": dict(view.outcomes),
    }


def _link(db: Database, remote: Remote) -> FhirLink | None:
    with db.read() as session:
        row = session.scalar(
            select(FhirLink).where(
                FhirLink.server == remote.server,
                FhirLink.resource_type == remote.resource_type,
                FhirLink.fhir_id == remote.fhir_id,
            )
        )
        if row is not None:
            session.expunge(row)
        return row


def _save_link(
    db: Database, remote: Remote, rota_id: str, record_digest: str | None, *, deleted: bool
) -> None:
    with db.session() as session:
        row = session.scalar(
            select(FhirLink).where(
                FhirLink.server == remote.server,
                FhirLink.resource_type == remote.resource_type,
                FhirLink.fhir_id == remote.fhir_id,
            )
        )
        if row is None:
            row = FhirLink(
                server=remote.server,
                resource_type=remote.resource_type,
                fhir_id=remote.fhir_id,
                rota_id=rota_id,
                synced_at=now_utc(),
            )
            session.add(row)
        row.rota_id = rota_id
        row.version_id = remote.version_id
        row.last_updated = remote.last_updated
        row.record_digest = record_digest or row.record_digest
        row.deleted = deleted
        row.synced_at = now_utc()


def link_of(db: Database, server: str, resource_type: str, fhir_id: str) -> Record | None:
    """What Rota remembers of one server resource (for reports and tests)."""
    row = _link(db, Remote(server, resource_type, fhir_id))
    if row is None:
        return None
    return {
        "rota_id": row.rota_id,
        "version_id": row.version_id,
        "last_updated": row.last_updated,
        "deleted": row.deleted,
    }


# --- the sync cursor ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where the sync of one resource type from one server stands: `last_updated`, the newest
    meta.lastUpdated of the last finished run (the next asks for newer); `next_url`, the page
    an unfinished run stopped before (the next run resumes there), with `high_water`, the
    newest lastUpdated that run had seen."""

    last_updated: str | None
    next_url: str | None
    high_water: str | None
    pages: int


def cursor(db: Database, server: str, resource_type: str) -> Cursor:
    with db.read() as session:
        row = session.get(FhirCursor, (server, resource_type))
        if row is None:
            return Cursor(None, None, None, 0)
        return Cursor(row.last_updated, row.next_url, row.high_water, row.pages)


def save_cursor(
    db: Database, server: str, resource_type: str, *, seen: str | None, next_url: str | None
) -> None:
    """After each page: the newest lastUpdated seen and the next page; with no next page the
    run is finished and what it saw becomes the point the next run starts from."""
    with db.session() as session:
        row = session.get(FhirCursor, (server, resource_type))
        if row is None:
            row = FhirCursor(server=server, resource_type=resource_type, pages=0)
            session.add(row)
        row.high_water = later(row.high_water, seen)
        row.next_url = next_url
        row.pages = (row.pages or 0) + 1
        if next_url is None:
            row.last_updated = later(row.last_updated, row.high_water)
            row.high_water = None
        row.updated_at = now_utc()


def later(a: str | None, b: str | None) -> str | None:
    """The later of two FHIR instants (either may be None)."""
    if a is None or b is None:
        return a or b
    return a if _instant(a) >= _instant(b) else b


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def record_import(db: Database, caller: Caller, source: str, counts: Record) -> None:
    """One audit event per import run: where from and what became of it."""
    with db.session() as session:
        append_event(
            session,
            actor=caller.staff_id,
            action="fhir.import",
            entity_type="facility",
            entity_id=source[:64],
            after=counts,
        )
