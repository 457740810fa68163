"""`rota import csv`: clients or appointments from a practice-management system's CSV export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from assistant.usecases import imports
from clinic.db import open_database
from clinic.errors import InvalidInput
from integrations.cli import identity
from integrations.csv_import.formats import FORMATS, KINDS
from integrations.csv_import.read import read_csv

ACTOR_HELP = "Who is importing (a staff id); recorded in the audit log."


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Imports from other systems' exports.", add_completion=False)
    app.add_typer(group, name="import")

    @group.command("csv")
    def csv_(
        file: Annotated[Path, typer.Argument(help="The CSV export.")],
        kind: Annotated[str, typer.Option(help=f"One of {', '.join(KINDS)}.")],
        fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")],
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="List every row that would fail; write nothing.")
        ] = False,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Import a whole file, or nothing: every row goes through the same checks, rules and
        audit as any other admission or booking; if one row fails, nothing is written and every
        failing row is listed (row, column, problem, fix). Clients first, then appointments."""
        read = read_csv(file, kind, fmt, dry_run=dry_run)
        db = open_database()
        report = imports.import_rows(db, identity.caller(db, actor), read.rows)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "kind": report.kind,
                        "rows": report.rows,
                        "dry_run": report.dry_run,
                        "written": report.written,
                        "imported": report.imported if report.written else [],
                        "would_import": len(report.imported),
                        "skipped": [{"row": r, "why": w} for r, w in report.skipped],
                        "problems": [p.__dict__ for p in report.problems],
                        "ignored_columns": list(read.ignored),
                    },
                    indent=2,
                )
            )
        else:
            for row, why in report.skipped:
                typer.echo(f"skipped row {row}: {why}")
            if read.ignored:
                typer.echo("ignored column(s): " + ", ".join(repr(c) for c in read.ignored))
        if report.problems:
            raise InvalidInput(
                f"{len(report.problems)} of {report.rows} row(s) would fail; nothing was written",
                [p.words() for p in report.problems],
            )
        if as_json:
            return
        if report.dry_run:
            typer.echo(
                f"dry run: all {len(report.imported)} {kind} row(s) would be imported "
                f"({len(report.skipped)} skipped); nothing was written"
            )
        else:
            typer.echo(
                f"imported {len(report.imported)} {kind} ({len(report.skipped)} row(s) skipped): "
                + ", ".join(report.imported)
            )
