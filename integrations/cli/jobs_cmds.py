"""`rota jobs list|run|history` and `rota worker`: the jobs Rota runs by itself, by hand."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

import typer

from assistant.jobs import load_jobs, run_job
from assistant.jobs.runs import describe_schedule, history
from clinic.db import open_database
from clinic.errors import InvalidInput
from clinic.timeutil import local_iso, now_utc, parse_datetime
from integrations import notify
from integrations.cli import identity

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
SAID = {
    "done": "done",
    "failed": "failed",
    "already_done": "already ran",
    "running": "is running elsewhere (claimed; not run again)",
    "failed_before": "failed before",
}


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Scheduled jobs: list, run by hand, history.", add_completion=False)
    app.add_typer(group, name="jobs")

    @group.command("list")
    def list_jobs(as_json: JsonFlag = False) -> None:
        """Every job, when it runs (facility time), its workers' queue, and what it does."""
        db = open_database()
        rows = [
            {
                "name": j.name,
                "schedule": describe_schedule(db, j),
                "queue": j.queue,
                "describe": j.describe,
            }
            for j in sorted(load_jobs().values(), key=lambda j: j.name)
        ]
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        for row in rows:
            typer.echo(
                f"{row['name']:<14} {row['schedule']:<20} {row['queue']:<8} {row['describe']}"
            )

    @group.command("run")
    def run(
        name: Annotated[str, typer.Argument(help="The job's name (see `rota jobs list`).")],
        now: Annotated[
            str | None, typer.Option(help="As if it were this ISO time (catch-up, tests).")
        ] = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Run a job now (or as of --now) unless its key already ran; a failed run is retried."""
        db = open_database()
        identity.acting(db)
        tz = db.facility_tz()
        try:
            moment = parse_datetime(now, tz) if now else now_utc()
        except InvalidInput as exc:
            raise InvalidInput(f"--now: {exc}") from exc
        notify.configure()  # the outbox job sends through the channels the environment sets
        outcome = run_job(db, name, moment)
        if as_json:
            typer.echo(json.dumps(_outcome(outcome), indent=2, default=str))
        else:
            typer.echo(f"{outcome.job} ({outcome.key}): {SAID.get(outcome.status, outcome.status)}")
            for field, value in outcome.summary.items():
                typer.echo(f"  {field}: {value}")
            if outcome.error:
                typer.echo(f"  error: {outcome.error}")
        if outcome.status == "failed":
            raise typer.Exit(1)

    @group.command("history")
    def show_history(
        job: Annotated[str | None, typer.Option(help="Only this job's runs.")] = None,
        limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
        as_json: JsonFlag = False,
    ) -> None:
        """Past runs, newest first: key, status, attempts, when, summary or error."""
        db = open_database()
        if limit < 1:
            raise InvalidInput("--limit: must be at least 1")
        runs = history(db, job, limit)
        if as_json:
            typer.echo(json.dumps([r.__dict__ for r in runs], indent=2, default=str))
            return
        if not runs:
            typer.echo("no job has run yet")
        tz = db.facility_tz()
        for r in runs:
            ended = local_iso(r.finished_at, tz) if r.finished_at else "-"
            detail = r.error or ", ".join(f"{k}={v}" for k, v in r.summary.items())
            typer.echo(
                f"{r.job:<14} {r.key:<17} {r.status:<8} x{r.attempts} "
                f"{local_iso(r.started_at, tz)} → {ended}  {detail}"
            )

    @app.command("worker")
    def worker(
        concurrency: Annotated[
            int, typer.Option(min=1, max=64, help="Jobs this process runs at once.")
        ] = 1,
        queues: Annotated[
            list[str] | None,
            typer.Option(
                help="The queues this worker runs: default (reminders, outbox …), solver (the "
                "morning cycle), or both (the default; comma-separated or repeated)."
            ),
        ] = None,
    ) -> None:
        """Run a procrastinate worker (PostgreSQL): it ticks every minute and runs due jobs.
        Start as many as you like, on as many machines: each job key runs once."""
        from integrations.jobs.distributed import (
            QUEUE_NAMES,
            conninfo,
            run_worker,
            tick_cron,
            worker_queues,
        )

        chosen = worker_queues(queues)  # a bad name: refused before anything starts

        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("rota.jobs").setLevel(logging.INFO)  # each run: job, key, outcome
        db = open_database()
        conninfo(db)  # PostgreSQL, or a clear refusal before anything starts
        tick_cron()  # a bad ROTA_JOBS_TICK_SECONDS: refused before anything starts
        notify.configure()  # SMTP and Twilio for the outbox job; the FHIR server for fhir_push
        runs = [name for name, queue in QUEUE_NAMES.items() if queue in chosen]
        typer.echo(
            f"Rota worker on {db.describe()} (queues {', '.join(runs)}, "
            f"concurrency {concurrency}); Ctrl-C stops"
        )
        run_worker(db, concurrency=concurrency, queues=chosen)


def _outcome(outcome: Any) -> dict[str, Any]:
    return {
        "job": outcome.job,
        "key": outcome.key,
        "status": outcome.status,
        "attempts": outcome.attempts,
        "summary": outcome.summary,
        "error": outcome.error,
    }
