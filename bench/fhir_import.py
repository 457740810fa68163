"""FHIR import benchmark: the demo facility (fixed seed and start) loaded as `rota demo --load`
does, exported as a FHIR Bundle (`rota fhir export`), then imported into a fresh database
(`rota fhir import --bundle`: every resource validated by its R4B model, mapped, loaded through
the rules). Prints one JSON document per size: resources, seconds for each step, the import rate
(resources per second, whole import and mapping alone), and whether the round trip is
identical (the Bundle exported again from the imported database equals the first, timestamp
aside).

    .venv/bin/python bench/fhir_import.py [--sizes m l]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant import callers
from assistant.wiring import load_facility_file
from clinic.db import open_database
from clinic.demo import generate_demo
from clinic.timeutil import use_clock
from integrations.fhir.bundle import export_bundle, import_bundle, read_bundle
from integrations.fhir.mapping import bundle_to_facility

START = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # noon in the demo's zone, on its anchor day


def _strip(bundle: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bundle.items() if k != "timestamp"}


def measure(size: str) -> dict[str, Any]:
    use_clock(lambda: NOW)
    out: dict[str, Any] = {"size": size, "seed": 7, "start": START.isoformat()}
    with tempfile.TemporaryDirectory() as tmp:
        source = open_database(f"sqlite:///{tmp}/source.sqlite3")
        load_facility_file(source, generate_demo(size, 7, START), as_of=START)
        t0 = time.perf_counter()
        bundle = export_bundle(source, callers.for_actor(source, "operator"))
        out["export_s"] = round(time.perf_counter() - t0, 2)
        path = Path(tmp) / "bundle.json"
        path.write_text(json.dumps(bundle), encoding="utf-8")
        out["resources"] = len(bundle["entry"])
        out["bundle_mb"] = round(path.stat().st_size / 1e6, 1)
        source.dispose()

        t0 = time.perf_counter()
        mapped = bundle_to_facility(read_bundle(path))
        out["map_warnings"] = len(mapped.warnings)
        out["map_s"] = round(time.perf_counter() - t0, 2)

        target = open_database(f"sqlite:///{tmp}/target.sqlite3")
        t0 = time.perf_counter()
        report = import_bundle(
            target, callers.for_actor(target, "operator"), read_bundle(path), source="bench"
        )
        seconds = time.perf_counter() - t0
        out["import_s"] = round(seconds, 2)
        out["import_rate_per_s"] = round(out["resources"] / seconds, 1)
        out["map_rate_per_s"] = round(out["resources"] / out["map_s"], 1)
        out["loaded"] = report.counts
        again = export_bundle(target, callers.for_actor(target, "operator"))
        out["round_trip_identical"] = _strip(again) == _strip(bundle)
        target.dispose()
    use_clock(None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="+", default=["m", "l"])
    args = parser.parse_args()
    results = [measure(size) for size in args.sizes]
    print(json.dumps({"fhir_import": results}, indent=2))


if __name__ == "__main__":
    main()
