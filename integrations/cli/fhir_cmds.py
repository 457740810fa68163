"""`rota fhir export|import`: the facility as a FHIR R4 Bundle, and Bundles or a FHIR server's
resources brought in (integrations/fhir)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from clinic.db import open_database
from clinic.errors import InvalidInput
from clinic.timeutil import parse_date
from integrations.cli import identity
from integrations.cli.output import write_atomically
from integrations.fhir.bundle import export_bundle, import_bundle, read_bundle

fhir_app = typer.Typer(help="FHIR R4: export and import (Bundles, servers).", add_completion=False)

OPERATOR = "operator"
Actor = Annotated[str, typer.Option(help="Who is acting (a staff id); recorded in the audit log.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def register(app: typer.Typer) -> None:
    app.add_typer(fhir_app, name="fhir")


@fhir_app.command("export")
def fhir_export(
    out: Annotated[Path, typer.Option(help="Write the Bundle (JSON) here.")],
    start: Annotated[
        str | None, typer.Option("--from", help="First day of appointments, YYYY-MM-DD.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day of appointments, YYYY-MM-DD.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Base of the entries' fullUrl (default a placeholder).")
    ] = None,
    actor: Actor = OPERATOR,
) -> None:
    """Write everything Rota knows as a FHIR R4 Bundle of type `collection`."""
    first = parse_date(start) if start else None
    last = parse_date(end) if end else None
    if first and last and last < first:
        raise InvalidInput("--to is before --from")
    db = open_database()
    bundle = export_bundle(db, identity.caller(db, actor), start=first, end=last, base_url=base_url)
    write_atomically(out, json.dumps(bundle, indent=1, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        kinds[kind] = kinds.get(kind, 0) + 1
    typer.echo(
        f"wrote {out}: {len(bundle['entry'])} resources ("
        + ", ".join(f"{n} {k}" for k, n in kinds.items())
        + ")"
    )


@fhir_app.command("import")
def fhir_import(
    bundle: Annotated[
        Path | None, typer.Option(help="A FHIR R4 Bundle (JSON) to bring in.")
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            help="A FHIR server's base URL; auth from ROTA_FHIR_TOKEN or ROTA_FHIR_CLIENT_ID "
            "(SMART backend services)."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="With --server: only resources updated after this instant (ISO)."),
    ] = None,
    actor: Actor = OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Bring FHIR resources in: into an empty database, the whole facility at once; into a
    living one, record by record through the same use cases as every change. Conflicts with
    changes made in Rota are reported, never overwritten; exit 1 when any record was not
    applied (a conflict or a refusal)."""
    if (bundle is None) == (server is None):
        raise InvalidInput("give one of --bundle FILE or --server URL")
    if since and server is None:
        raise InvalidInput("--since goes with --server")
    db = open_database()
    caller = identity.caller(db, actor)
    if bundle is not None:
        report: Any = import_bundle(db, caller, read_bundle(bundle), source=f"fhir:{bundle}")
    else:
        from integrations.fhir.sync import import_server  # the HTTP client only when used

        report = import_server(db, caller, str(server), since=since)
    record = report.as_record()
    _report(record, as_json)
    if any(o["result"] in ("conflict", "refused") for o in record["outcomes"]):
        raise typer.Exit(1)  # something was not applied: a script must notice


def _report(record: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(record, indent=2, ensure_ascii=False, default=str))
        return
    counts = ", ".join(f"{n} {k}" for k, n in record["counts"].items()) or "nothing"
    typer.echo(f"{record['mode']} {record['resources']} resources: {counts}")
    for outcome in record.get("outcomes", []):
        if outcome["result"] in ("conflict", "refused", "skipped"):
            detail = f": {outcome['detail']}" if outcome.get("detail") else ""
            typer.echo(f"  {outcome['result']} {outcome['label']}{detail}")
    for warning in record.get("warnings", []):
        typer.echo(f"  note: {warning}")
