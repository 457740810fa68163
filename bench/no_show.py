"""No-show prediction on generated histories: the model against each patient's smoothed own
rate (the baseline) and the process's true risk (the ceiling), on the latest held-out weeks.
Prints one JSON document.

    .venv/bin/python bench/no_show.py [--patients 300] [--weeks 12] [--held-out 3] [--seeds 1 2 3]

Each seed draws a history from clinic/attendance_process.py (clinic/attendance_history.py says
its shape), trains as the weekly job does (fit on all but the held-out weeks, score them, refit
on everything) and reports AUC, Brier score and expected calibration error (ten equal-count
bins) for the model, the baseline and the true risk, the share of held-out sessions the model
flags as high risk (≥ no_show.HIGH_RISK) and sends the extra reminder (≥ EXTRA_REMINDER_FROM),
with the observed miss rate among them, and the
training seconds (both fits). Fixed seeds and dates: the same run, the same figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant import no_show
from clinic.attendance_history import generate_history


def one(seed: int, patients: int, weeks: int, held_out: int) -> dict:
    began = time.perf_counter()
    history = generate_history(seed, patients=patients, weeks=weeks)
    generated = time.perf_counter() - began
    trained = no_show.train(history.rows, history.end, held_out_weeks=held_out)
    m = trained.metrics
    cutoff = history.end - timedelta(weeks=held_out)
    held = [i for i, r in enumerate(history.rows) if r.start >= cutoff]
    observed = [history.rows[i].missed for i in held]
    truth = no_show.scores([history.true_risk[i] for i in held], observed)
    # The split's model again, to count what it flags (the stored fit saw the held-out weeks).
    prior = no_show.fit_prior(no_show._counts([r for r in history.rows if r.start < cutoff]))
    split = no_show.examples(history.rows, prior)
    model = no_show.fit([e for e in split if e.start < cutoff], prior)
    reminded = [
        e.missed
        for e in split
        if e.start >= cutoff and no_show.needs_extra_reminder(model.probability(e.features))
    ]
    flagged = [
        e.missed
        for e in split
        if e.start >= cutoff and model.probability(e.features) >= no_show.HIGH_RISK
    ]
    return {
        "seed": seed,
        "sessions": len(history.rows),
        "n_train": m["n_train"],
        "n_held_out": m["n_held_out"],
        "held_out_rate": m["held_out_rate"],
        "mean_predicted": m["mean_predicted"],
        "model": m["model"],
        "baseline": m["baseline"],
        "true_risk": truth,
        "auc_gain": round(m["model"]["auc"] - m["baseline"]["auc"], 4),
        "ceiling_gain": round(truth["auc"] - m["baseline"]["auc"], 4),
        "flagged_share": round(len(flagged) / len(held), 4),
        "flagged_miss_rate": round(sum(flagged) / len(flagged), 4) if flagged else None,
        "extra_reminder_share": round(len(reminded) / len(held), 4),
        "extra_reminder_miss_rate": round(sum(reminded) / len(reminded), 4) if reminded else None,
        "prior": {
            "rate": round(trained.model.prior.rate, 4),
            "strength": round(trained.model.prior.strength, 2),
        },
        "generate_seconds": round(generated, 3),
        "train_seconds": m["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--held-out", type=int, default=no_show.HELD_OUT_WEEKS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    import sklearn.linear_model
    import sklearn.metrics  # noqa: F401

    runs = [one(s, args.patients, args.weeks, args.held_out) for s in args.seeds]

    def mean(key: str, sub: str | None = None) -> float:
        values = [r[key][sub] if sub else r[key] for r in runs]
        return round(sum(values) / len(values), 4)

    print(
        json.dumps(
            {
                "bench": "no_show",
                "patients": args.patients,
                "weeks": args.weeks,
                "held_out_weeks": args.held_out,
                "high_risk_threshold": no_show.HIGH_RISK,
                "extra_reminder_threshold": no_show.EXTRA_REMINDER_FROM,
                "mean": {
                    "model_auc": mean("model", "auc"),
                    "baseline_auc": mean("baseline", "auc"),
                    "true_risk_auc": mean("true_risk", "auc"),
                    "model_brier": mean("model", "brier"),
                    "baseline_brier": mean("baseline", "brier"),
                    "model_ece": mean("model", "ece"),
                    "baseline_ece": mean("baseline", "ece"),
                    "auc_gain": mean("auc_gain"),
                    "train_seconds": mean("train_seconds"),
                },
                "runs": runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
