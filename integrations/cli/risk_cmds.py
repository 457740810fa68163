"""`rota risk train|show`: the no-show model — retrain it now, or see the one in force (its
version, training window and held-out AUC, Brier score and calibration against the per-patient
rate)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from assistant import no_show
from clinic.db import open_database
from clinic.errors import InvalidInput
from clinic.timeutil import now_utc, parse_datetime
from integrations.cli import identity

ACTOR_HELP = "Who is asking (a staff id or a name); recorded in the audit log."
Actor = Annotated[str, typer.Option(help=ACTOR_HELP)]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The no-show model: train, show.", add_completion=False)
    app.add_typer(group, name="risk")

    @group.command("train")
    def train(
        now: Annotated[
            str | None, typer.Option(help="As if it were this ISO time (history before it).")
        ] = None,
        held_out_weeks: Annotated[
            int | None,
            typer.Option(
                min=1, help=f"Score on this many latest weeks ({no_show.HELD_OUT_WEEKS})."
            ),
        ] = None,
        actor: Actor = "operator",
        as_json: JsonFlag = False,
    ) -> None:
        """Retrain on the attendance history and store the next version."""
        db = open_database()
        try:
            moment = parse_datetime(now, db.facility_tz()) if now else now_utc()
        except InvalidInput as exc:
            raise InvalidInput(f"--now: {exc}") from exc
        done = no_show.train_model(
            db, identity.caller(db, actor), moment, held_out_weeks=held_out_weeks
        )
        _print(done, as_json)

    @group.command("show")
    def show(actor: Actor = "operator", as_json: JsonFlag = False) -> None:
        """The model in force: version, window, size, held-out metrics against the baseline."""
        db = open_database()
        model = no_show.model_report(db, identity.caller(db, actor))
        if model is None:
            if as_json:
                typer.echo("null")
                return
            typer.echo(
                "no model trained yet: risks are each patient's smoothed own rate "
                "(run `rota risk train` or the job retrain-risk)"
            )
            return
        _print(model, as_json)


def _print(model: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(model, indent=2))
        return
    window = model["window"]
    metrics = model["metrics"]
    typer.echo(
        f"no-show model v{model['version']} ({model['kind']}), trained {model['trained_at']} "
        f"on {model['n']} sessions from {window['from']} to {window['until']}"
    )
    typer.echo(
        f"held out from {window['held_out_from']}: {metrics.get('n_held_out', 0)} sessions, "
        f"observed rate {metrics.get('held_out_rate', '-')}, mean predicted "
        f"{metrics.get('mean_predicted', '-')}"
    )
    for name in ("model", "baseline"):
        if name in metrics:
            m = metrics[name]
            typer.echo(f"  {name:<9} AUC {m['auc']}  Brier {m['brier']}  ECE {m['ece']}")
