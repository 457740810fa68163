"""`rota rules list|show|validate` and `rota check`: the rules layer from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from assistant.usecases import checks
from clinic.db import open_database
from clinic.errors import NotFound
from clinic.timeutil import parse_datetime
from rules import vocabulary as V
from rules.decision import Decision
from rules.loader import PackError, Rule, collect, rules_dir_from_env
from rules.service import default_service

rules_app = typer.Typer(help="Rule packs: list, show and validate them.", add_completion=False)
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _rule_dict(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "pack": rule.pack,
        "severity": rule.severity,
        "subject": rule.subject,
        "actions": list(rule.actions),
        "when": rule.when,
        "params": dict(rule.params),
        "message": rule.message,
        "oblige": list(rule.oblige),
        "override_by": list(rule.override_by),
        "sources": list(rule.sources),
        "link": rule.link,
        "basis": rule.basis,
        "enabled": rule.enabled,
        "defined_at": f"{rule.file}:{rule.line}",
    }


@rules_app.command("list")
def rules_list(as_json: JsonFlag = False) -> None:
    """Every rule: id, severity, pack, title and its catalogue sources."""
    packs = default_service().packs
    if as_json:
        _echo_json([_rule_dict(r) for r in packs.rules])
        return
    for r in packs.rules:
        state = "" if r.enabled else "  (disabled)"
        typer.echo(
            f"{r.id:<28} {r.severity:<16} {r.pack:<14} {r.title}  [{', '.join(r.sources)}]{state}"
        )


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. AUTH-UNITS.")],
    as_json: JsonFlag = False,
) -> None:
    """One rule in full: condition, parameters, message, sources and where it is defined."""
    packs = default_service().packs
    rule = packs.rule(rule_id.upper())
    if rule is None:
        close = [r.id for r in packs.rules if rule_id.upper().split("-")[0] in r.id][:5]
        hint = f"; rules like it: {', '.join(close)}" if close else ""
        raise NotFound(f"no rule {rule_id!r}{hint} (rota rules list shows them all)")
    data = _rule_dict(rule)
    if as_json:
        _echo_json(data)
        return
    typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).rstrip())


@rules_app.command("validate")
def rules_validate(
    directory: Annotated[
        Path | None,
        typer.Argument(help="A facility rules directory (default: ROTA_RULES_DIR, if set)."),
    ] = None,
) -> None:
    """Check the built-in packs plus a facility directory; each problem as file:line: what."""
    directory = directory or rules_dir_from_env()
    packs, problems = collect(directory)
    if problems or packs is None:
        raise PackError(f"{len(problems)} problem(s) in the rule packs", [str(p) for p in problems])
    where = f"built-in packs + {directory}" if directory else "built-in packs"
    typer.echo(f"ok: {len(packs.rules)} rules in {len(packs.files)} files ({where})")


def _print_decision(decision: Decision) -> None:
    typer.echo("ALLOWED" if decision.allowed else "DENIED")
    for f in decision.fired:
        mark = " (overridden)" if f.overridden else ""
        typer.echo(f"  {f.severity:<16} {f.id}{mark}: {f.message}  [{', '.join(f.sources)}]")
    for line in decision.obligations:
        typer.echo(f"  must: {line}")


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")

    @app.command("check")
    def check(
        actor: Annotated[str, typer.Option("--actor", help="Staff id of the person asking.")],
        action: Annotated[str, typer.Option("--action", help=", ".join(V.ACTIONS))],
        patient: Annotated[str | None, typer.Option("--patient", help="Patient id.")] = None,
        staff: Annotated[
            list[str] | None, typer.Option("--staff", help="Staff id (repeatable).")
        ] = None,
        session_type: Annotated[str | None, typer.Option("--type", help="Session type id.")] = None,
        start: Annotated[str | None, typer.Option("--start", help="ISO date-time.")] = None,
        minutes: Annotated[int | None, typer.Option("--minutes", help="Length.")] = None,
        room: Annotated[str | None, typer.Option("--room", help="Room id.")] = None,
        appointment: Annotated[
            str | None, typer.Option("--appointment", help="An existing appointment id.")
        ] = None,
        status: Annotated[
            str | None, typer.Option("--status", help="For set_status: the new status.")
        ] = None,
        override_reason: Annotated[
            str | None, typer.Option("--override-reason", help="Why a rule is overridden.")
        ] = None,
        as_json: JsonFlag = False,
    ) -> None:
        """May ACTOR do ACTION? Prints the decision; exit 0 when allowed, 3 when denied."""
        db = open_database()
        tz = db.facility_tz()
        decision = checks.check(
            db,
            checks.Check(
                actor=actor,
                action=action,
                patient=patient,
                staff=tuple(staff or ()),
                session_type=session_type,
                start=parse_datetime(start, tz) if start else None,
                minutes=minutes,
                room=room,
                appointment=appointment,
                status=status,
                override_reason=override_reason,
            ),
        )
        if as_json:
            _echo_json(decision.to_dict())
        else:
            _print_decision(decision)
        if not decision.allowed:
            raise typer.Exit(3)
