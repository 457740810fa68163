"""Benchmark of understanding and privacy: prints JSON.

    python bench/nlu.py            (from the repository root)

Parse latency over the labelled set (tests/nlu/data/labelled.yaml), redaction latency over the
annotated PHI corpus (tests/nlu/data/phi_corpus.txt), plus the accuracy figures of both sets.
Each message is timed `--rounds` times after one warm-up pass; builds are timed separately.
Targets (issue #5): parse p50 < 5 ms, redaction p95 < 30 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.parse import parse, parser_for
from assistant.phi import redactor_for
from tests.nlu import labelled, phi_corpus
from tests.nlu.roster_data import roster

DEMO_START = date(2026, 11, 30)  # a fixed anchor: the roster never depends on today


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(q[94], 3),
        "max_ms": round(ordered[-1], 3),
    }


def _demo_timings(
    size: str, cases: list[labelled.Case], samples: list[phi_corpus.Sample]
) -> dict[str, Any]:
    """The same messages against a bigger roster (index size is what could cost time)."""
    from assistant.roster import Roster
    from clinic.demo import generate_demo

    demo = Roster.from_facility_file(generate_demo(size, start=DEMO_START))
    t0 = time.perf_counter()
    redactor = redactor_for(demo)
    build = time.perf_counter() - t0
    parse_times, redact_times = [], []
    for case in cases:
        t0 = time.perf_counter()
        parse(case.text, roster=demo, now=case.now, actor=None)
        parse_times.append((time.perf_counter() - t0) * 1000)
    for s in samples:
        t0 = time.perf_counter()
        redactor.redact(s.text)
        redact_times.append((time.perf_counter() - t0) * 1000)
    return {
        "size": size,
        "patients": len(demo.patients),
        "staff": len(demo.staff),
        "index_build_s": round(build, 3),
        "parse": _percentiles(parse_times),
        "redact": _percentiles(redact_times),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--demo-size", default="m", help="also time against a demo roster (s/m/l/xl)")
    args = ap.parse_args()
    r = roster()
    cases = labelled.load()
    samples = phi_corpus.load()

    t0 = time.perf_counter()
    parser_for(r)
    parser_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    redactor = redactor_for(r)
    redactor_build = time.perf_counter() - t0

    def run_parse(case: labelled.Case) -> dict[str, Any]:
        return parse(case.text, roster=r, now=case.now, actor=case.actor)

    for case in cases:  # warm-up
        run_parse(case)
    parse_times: list[float] = []
    for _ in range(args.rounds):
        for case in cases:
            t0 = time.perf_counter()
            run_parse(case)
            parse_times.append((time.perf_counter() - t0) * 1000)

    for s in samples:
        redactor.redact(s.text)
    redact_times: list[float] = []
    for _ in range(args.rounds):
        for s in samples:
            t0 = time.perf_counter()
            redactor.redact(s.text)
            redact_times.append((time.perf_counter() - t0) * 1000)

    demo = _demo_timings(args.demo_size, cases, samples)
    accuracy = labelled.score(cases, run_parse)
    privacy = phi_corpus.score(
        samples, lambda t: [(e.start, e.end) for e in redactor.redact(t).entities]
    )
    print(
        json.dumps(
            {
                "python": sys.version.split()[0],
                "rounds": args.rounds,
                "parse": {
                    "messages": len(cases),
                    **_percentiles(parse_times),
                    "build_s": round(parser_build, 3),
                    "exact_frames": accuracy["exact_frames"],
                    "per_intent": accuracy["per_intent"],
                    "per_field": accuracy["per_field"],
                },
                "redact": {
                    "messages": len(samples),
                    **_percentiles(redact_times),
                    "build_s": round(redactor_build, 3),
                    "identifiers": privacy["identifiers"],
                    "identifiers_surviving": privacy["identifiers_surviving"],
                    "kept_word_survival": privacy["kept_word_survival"],
                },
                "demo_roster": demo,
                "targets": {"parse_p50_ms": 5, "redact_p95_ms": 30},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
