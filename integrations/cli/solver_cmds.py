"""`rota slots`, `rota optimize`, `rota repair`: the solver from the command line."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.optimize import (
    SYSTEM_ACTOR,
    SlotsQuery,
    apply_plan,
    apply_repair,
    offer_slots_to,
    optimize_period,
    option_risks,
    plan_file,
    repair_json,
    repair_plan_file,
    repair_staff_out,
    slots_json,
)
from clinic.db import open_database
from clinic.errors import InvalidInput
from clinic.timeutil import local_iso, local_midnight, parse_date, parse_datetime
from integrations.cli import identity
from solver.deadline import Step
from solver.plan import Progress
from solver.settings import SolverSettings

ACTOR_HELP = "Who is making the change (recorded in the audit log)."


def _settings(time_limit: float | None, workers: int | None) -> SolverSettings:
    try:
        return SolverSettings.from_env(time_limit=time_limit, workers=workers)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    typer.echo(f"wrote {path}", err=True)


class _ProgressLine:
    """Each step of the plan as it ends (what, seconds, how many), and CP-SAT's solutions found,
    objective, bound and time, at most twice a second; on stderr."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, event: Progress | Step) -> None:
        if isinstance(event, Step):
            note = f" {event.note}" if event.note else ""
            print(f"  {event.what}: {event.count}{note}, {event.seconds:.1f}s", file=sys.stderr)
            return
        now = time.monotonic()
        if now - self.last < 0.5:
            return
        self.last = now
        print(
            f"  {event.phase}: {event.solutions} solution(s), objective {event.objective:g}, "
            f"bound {event.bound:g}, {event.seconds:.1f}s",
            file=sys.stderr,
        )


def register(app: typer.Typer) -> None:
    @app.command()
    def slots(
        patient: Annotated[str, typer.Option(help="Patient id.")],
        start: Annotated[str, typer.Option("--from", help="Window start, ISO (facility-local).")],
        end: Annotated[str, typer.Option("--to", help="Window end, ISO (exclusive).")],
        session_type: Annotated[
            str, typer.Option("--type", help="Session type id.")
        ] = "individual",
        needs: Annotated[
            list[str] | None, typer.Option(help="A specialization the clinician must have.")
        ] = None,
        staff: Annotated[str | None, typer.Option(help="Only this clinician.")] = None,
        k: Annotated[int, typer.Option("-k", help="How many options.")] = 3,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
        actor: Annotated[
            str, typer.Option(help="Who is asking (a staff id; needs a configured operator).")
        ] = identity.DEFAULT_ACTOR,
    ) -> None:
        """The k best distinct options for one patient, each with why it ranks where it does
        (for those who may book for the patient; the search is in the access log)."""
        db = open_database()
        tz = db.facility_tz()
        query = SlotsQuery(
            patient=patient,
            session_type=session_type,
            start=parse_datetime(start, tz),
            end=parse_datetime(end, tz),
            staff=staff,
            needs=tuple(needs or ()),
            k=k,
        )
        caller = identity.caller(db, actor)
        answer, built = offer_slots_to(db, caller, query)
        risks = option_risks(
            db,
            caller,
            patient,
            session_type,
            [(built.clock.moment(o.start), list(o.staff)) for o in answer.options],
        )
        data = slots_json(answer, built, risks)
        if as_json:
            typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return
        for n, o in enumerate(data["options"], 1):
            terms = ", ".join(f"{name} {value:+g}" for name, value in o["why"].items() if value)
            risk = ""
            if "no_show_risk" in o:  # only for whoever the pack lets see it
                flag = "  HIGH NO-SHOW RISK" if o["high_no_show_risk"] else ""
                risk = f"  no-show risk {o['no_show_risk']:.0%}{flag}"
            typer.echo(
                f"{n}. {o['start']}–{o['end'][11:16]}  {o['staff']}  room {o['room']}  score {o['score']:g}  ({terms or 'no penalties'}){risk}"
            )
        if data["reason"]:
            typer.echo(data["reason"])
        for o in data.get("nearest", []):
            typer.echo(f"   nearest: {o['start']}  {o['staff']}  room {o['room']}")

    @app.command()
    def optimize(
        start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
        end: Annotated[
            str, typer.Option("--to", help="Day after the last, YYYY-MM-DD (exclusive).")
        ],
        time_limit: Annotated[
            float | None, typer.Option(help="Seconds (default ROTA_SOLVER_TIME_LIMIT or 30).")
        ] = None,
        workers: Annotated[
            int | None, typer.Option(help="CP-SAT workers (ROTA_SOLVER_WORKERS).")
        ] = None,
        out: Annotated[Path | None, typer.Option(help="Write the plan file here.")] = None,
        apply: Annotated[
            bool, typer.Option("--apply", help="Book the plan (all or nothing).")
        ] = False,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = SYSTEM_ACTOR,
        as_json: Annotated[bool, typer.Option("--json", help="Print the plan file.")] = False,
    ) -> None:
        """Plan a period: weekly requirements and standing groups around what is booked."""
        db = open_database()
        tz = db.facility_tz()
        first, last = parse_date(start), parse_date(end)
        if last <= first:
            raise InvalidInput("--to must be after --from (it is exclusive)")
        settings = _settings(time_limit, workers)
        typer.echo(
            f"optimizing {first} to {last} ({settings.time_limit:g}s, {settings.workers} workers)",
            err=True,
        )
        result, built = optimize_period(
            db, local_midnight(first, tz), local_midnight(last, tz), settings, _ProgressLine()
        )
        data = plan_file(result, built)
        if out is not None:
            _write(out, data)
        if apply:
            identity.acting(db)  # books as the system actor, on an operator's say-so
            booked = apply_plan(db, actor, result, built)
            typer.echo(f"booked {booked} appointment(s)", err=True)
        if as_json:
            typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return
        _summary(data, len(result.new))

    @app.command("repair")
    def repair_cmd(
        staff: Annotated[str, typer.Option(help="The clinician who is out.")],
        start: Annotated[str, typer.Option("--from", help="Out from, ISO (facility-local).")],
        end: Annotated[str, typer.Option("--to", help="Out until, ISO (exclusive).")],
        reason: Annotated[
            str, typer.Option(help="Why (recorded with each move).")
        ] = "clinician out",
        time_limit: Annotated[float | None, typer.Option(help="Seconds.")] = None,
        workers: Annotated[int | None, typer.Option(help="CP-SAT workers.")] = None,
        out: Annotated[Path | None, typer.Option(help="Write the repaired plan file here.")] = None,
        apply: Annotated[
            bool, typer.Option("--apply", help="Make the moves (undone if one fails).")
        ] = False,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = SYSTEM_ACTOR,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """A clinician is out: re-place their appointments with the fewest changes."""
        db = open_database()
        tz = db.facility_tz()
        settings = _settings(time_limit or 10.0, workers)
        result, built = repair_staff_out(
            db, staff, parse_datetime(start, tz), parse_datetime(end, tz), settings, reason=reason
        )
        if out is not None:
            _write(out, repair_plan_file(result, built))
        if apply and result.moves:
            identity.acting(db)
            moved = apply_repair(db, actor, result, built, reason)
            typer.echo(f"moved {moved} appointment(s)", err=True)
        data = repair_json(result, built)
        if as_json:
            typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return
        clock = built.clock
        for m in result.moves:
            before = local_iso(clock.moment(m.before.start), clock.tz)
            after = local_iso(clock.moment(m.after.start), clock.tz)
            typer.echo(
                f"move {m.before.id}: {before} {','.join(m.before.staff)} -> {after} {','.join(m.after.staff)} room {m.after.room} ({m.reason})"
            )
        for u in result.unplaced:
            at = local_iso(clock.moment(u.appointment.start), clock.tz)
            typer.echo(f"NOT re-placed {u.appointment.id} ({at}): {u.reason}")
        typer.echo(
            f"{len(result.moves)} moved, {len(result.unplaced)} not re-placed, {result.kept} kept as they were ({result.stats.seconds:.2f}s)"
        )


def _summary(data: dict[str, Any], new: int) -> None:
    m, s = data["metrics"], data["solver"]
    typer.echo(
        f"placed {m['placed_sessions']} of {m['required_sessions']} required sessions ({new} new); "
        f"staff utilization {m['staff_utilization']:.0%}, rooms {m['room_utilization']:.0%}"
    )
    if s["objective"] is not None and s["bound"]:
        gap = abs(s["bound"] - s["objective"]) / max(abs(s["bound"]), 1e-9)
        typer.echo(
            f"solver {s['status']} in {s['seconds']:.1f}s: placement {s['objective']:g}, bound {s['bound']:g} (gap {gap:.2%})"
        )
    for u in data["unmet"][:20]:
        who = u.get("patient") or f"group {u.get('group')}"
        typer.echo(f"  unmet: {who} {u['session_type']} x{u['missing']}: {u['reason']}")
    if len(data["unmet"]) > 20:
        typer.echo(f"  ... and {len(data['unmet']) - 20} more (see --out or --json)")
