"""`rota staff add|update|leave`, `rota group enrol|remove|create|end`, `rota room close`: the
facility's standing records from the terminal, over the same use cases as HTTP and chat.

A record is the facility file's object, given as JSON text or as a JSON/YAML file's path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from assistant import no_show
from assistant.usecases import groups, rooms, staff
from assistant.usecases.periods import read_period
from clinic.db import Database, open_database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from integrations.cli import identity

staff_app = typer.Typer(help="Staff members: add, change hours, leave.", add_completion=False)
group_app = typer.Typer(
    help="Therapy groups: show, enrol, remove, create, end.", add_completion=False
)
room_app = typer.Typer(help="Rooms: close for a period.", add_completion=False)

OPERATOR = "operator"
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Actor = Annotated[
    str, typer.Option(help="Who is making the change (a staff id); recorded in the audit log.")
]
RecordArg = Annotated[
    str, typer.Argument(help="The facility file's object: JSON text, or a JSON/YAML file's path.")
]
From = Annotated[str, typer.Option("--from", help="Start, ISO (facility time unless offset).")]
Reason = Annotated[str | None, typer.Option(help="Why; recorded in the audit log.")]


def register(app: typer.Typer) -> None:
    app.add_typer(staff_app, name="staff")
    app.add_typer(group_app, name="group")
    app.add_typer(room_app, name="room")


def _context(actor: str) -> tuple[Database, Caller]:
    db = open_database()
    return db, identity.caller(db, actor)


def _record(text: str) -> dict[str, Any]:
    """JSON text, or the path of a JSON/YAML file holding one object."""
    stripped = text.strip()
    try:
        if stripped.startswith("{"):
            data = json.loads(stripped)
        else:
            path = Path(text)
            if not path.exists():
                raise InvalidInput(f"{text}: neither a JSON object nor a file")
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"not a JSON object: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput("the record must be an object ({...})")
    return data


def _period(db: Database, start: str, end: str | None, reason: str | None) -> Any:
    """The flags as the facility file's period; problems named by their flags."""
    record = {"start": start, "end": end, "reason": reason}
    try:
        return read_period(
            {k: v for k, v in record.items() if v is not None}, db.facility_tz(), need_end=False
        )
    except InvalidInput as exc:
        flags = [p.replace("$.start", "--from").replace("$.end", "--to") for p in exc.problems]
        raise InvalidInput("; ".join(flags)) from exc


def _out(data: Any, as_json: bool, line: str) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str) if as_json else line)


def _proposal_line(p: dict[str, Any]) -> str:
    return (
        f"proposal {p['id']}: {len(p['moves'])} session(s) to move, {len(p['unplaced'])} without "
        f"a place; apply it in chat ('apply {p['id']}')"
    )


# --- staff ---------------------------------------------------------------------------------------


@staff_app.command("add")
def staff_add(record: RecordArg, actor: Actor = OPERATOR, as_json: JsonFlag = False) -> None:
    """Add a staff member (checked as the facility file is)."""
    db, caller = _context(actor)
    added = staff.add_staff(db, caller, staff.AddStaff(_record(record)))
    _out(added, as_json, f"added {added['name']} ({added['id']}, {added['role']})")


@staff_app.command("update")
def staff_update(
    staff_id: Annotated[str, typer.Argument(help="Staff id.")],
    changes: Annotated[
        str | None, typer.Argument(help="Fields to change, JSON (null removes a field).")
    ] = None,
    max_minutes_per_week: Annotated[int | None, typer.Option(help="Weekly cap.")] = None,
    specializations: Annotated[
        str | None, typer.Option(help="Comma-separated, e.g. trauma,dual_diagnosis.")
    ] = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Change hours (availability, max_minutes_per_week), specializations or other fields."""
    db, caller = _context(actor)
    patch = _record(changes) if changes else {}
    if max_minutes_per_week is not None:
        patch["max_minutes_per_week"] = max_minutes_per_week
    if specializations is not None:
        patch["specializations"] = [s.strip() for s in specializations.split(",") if s.strip()]
    if not patch:
        raise InvalidInput("nothing to change: give CHANGES or an option")
    updated = staff.update_staff(db, caller, staff.UpdateStaff(staff_id, patch))
    _out(updated, as_json, f"updated {updated['id']}: {', '.join(sorted(patch))}")


@staff_app.command("leave")
def staff_leave(
    staff_id: Annotated[str, typer.Argument(help="Staff id.")],
    start: From,
    end: Annotated[str | None, typer.Option("--to", help="End, ISO (exclusive).")] = None,
    for_good: Annotated[
        bool, typer.Option("--for-good", help="They leave the facility (no --to).")
    ] = False,
    reason: Reason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Planned leave (--from, --to) or leaving the facility (--from, --for-good): the absence
    is recorded and cover for their sessions proposed."""
    db, caller = _context(actor)
    if for_good == (end is not None):
        raise InvalidInput("give --to for planned leave, or --for-good when they leave")
    period = _period(db, start, end, reason)
    now = now_utc()
    if for_good:
        proposal = staff.depart(
            db, caller, staff.Depart(staff_id, period.start, now, reason=reason)
        )
    else:
        proposal = staff.planned_leave(
            db, caller, staff.PlannedLeave(staff_id, period.start, period.end, now, reason=reason)
        )
    _out(proposal, as_json, _proposal_line(proposal))


# --- groups --------------------------------------------------------------------------------------

GroupArg = Annotated[str, typer.Argument(help="Group id.")]
PatientArg = Annotated[str, typer.Argument(help="Patient id.")]


@group_app.command("show")
def group_show(group_id: GroupArg, actor: Actor = OPERATOR, as_json: JsonFlag = False) -> None:
    """Expected attendance at the next session and how many to enrol (over-enrolment)."""
    db, caller = _context(actor)
    s = no_show.suggest_enrolment(db, caller, group_id, now_utc())
    lines = [f"{group_id}: {s['members']} members, capacity {s['capacity'] or '-'}"]
    if s["expected_attendance"] is not None:
        lines.append(
            f"  expected attendance {s['expected_attendance']:.0%} "
            f"(about {s['expected_present']} present at {s['next_session']})"
        )
    if s["suggested_enrolment"] is not None:
        lines.append(
            f"  enrol up to {s['suggested_enrolment']} (room for {s['room_for']} more) "
            "= capacity / expected attendance"
        )
    _out(s, as_json, "\n".join(lines))


@group_app.command("enrol")
def group_enrol(
    group_id: GroupArg, patient: PatientArg, actor: Actor = OPERATOR, as_json: JsonFlag = False
) -> None:
    """Enrol a patient (the rules' `enroll`: closed cohorts, size, keep-apart pairs)."""
    db, caller = _context(actor)
    done = groups.enrol(db, caller, groups.Enrol(group_id, patient))
    group = done["group"]
    lines = [f"{patient} enrolled in {group['id']} ({len(group['members'])} members)"]
    lines.append(f"  joins {len(done['joined'])} booked session(s) ahead")
    lines += [f"  not {n['appointment']}: {n['reason']}" for n in done["not_joined"]]
    _out(done, as_json, "\n".join(lines))


@group_app.command("remove")
def group_remove(
    group_id: GroupArg, patient: PatientArg, actor: Actor = OPERATOR, as_json: JsonFlag = False
) -> None:
    """Take a patient out of a group."""
    db, caller = _context(actor)
    done = groups.unenrol(db, caller, groups.Unenrol(group_id, patient))
    group = done["group"]
    lines = [f"{patient} removed from {group['id']} ({len(group['members'])} members)"]
    lines.append(f"  leaves {len(done['left'])} booked session(s) ahead")
    lines += [f"  still in {n['appointment']}: {n['reason']}" for n in done["not_left"]]
    _out(done, as_json, "\n".join(lines))


@group_app.command("create")
def group_create(record: RecordArg, actor: Actor = OPERATOR, as_json: JsonFlag = False) -> None:
    """Create a group from the facility file's group object."""
    db, caller = _context(actor)
    group = groups.create_group(db, caller, groups.CreateGroup(_record(record)))
    _out(group, as_json, f"created {group['id']} ({len(group['members'])} members)")


@group_app.command("end")
def group_end(
    group_id: GroupArg,
    reason: Reason = None,
    override_reason: Annotated[
        str | None, typer.Option(help="A clinical reason overriding a rule that allows it.")
    ] = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """End a group: its future sessions are cancelled (listed)."""
    db, caller = _context(actor)
    ended = groups.end_group(
        db,
        caller,
        groups.EndGroup(group_id, now_utc(), reason=reason, override_reason=override_reason),
    )
    lines = [f"ended {group_id}: {len(ended['cancelled'])} session(s) cancelled"]
    lines += [f"  {a['id']}  {a['start']}" for a in ended["cancelled"]]
    _out(ended, as_json, "\n".join(lines))


# --- rooms ---------------------------------------------------------------------------------------


@room_app.command("close")
def room_close(
    room_id: Annotated[str, typer.Argument(help="Room id.")],
    start: From,
    end: Annotated[str, typer.Option("--to", help="End, ISO (exclusive).")],
    reason: Reason = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Close a room: the closure is recorded and its sessions' repair proposed."""
    db, caller = _context(actor)
    period = _period(db, start, end, reason)
    proposal = rooms.close_room(
        db, caller, rooms.CloseRoom(room_id, period.start, period.end, now_utc(), reason=reason)
    )
    _out(proposal, as_json, _proposal_line(proposal))
