"""Demo facility benchmark: generation and load time per size (SQLite, hard checks only, as the
tests load it; `--rules` also through the rule packs, as `rota demo --load` does), and the
demo's own figures. Prints one JSON document.

    .venv/bin/python bench/demo.py [--sizes s m l] [--rules]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clinic.db import open_database
from clinic.demo import generate_demo
from clinic.demo.figures import figures
from clinic.facility_file import load_facility

START = date(2026, 11, 30)


def measure(size: str, rules: bool) -> dict[str, object]:
    t0 = time.perf_counter()
    data = generate_demo(size, seed=7, start=START)
    generated = time.perf_counter() - t0
    out: dict[str, object] = {"generate_s": round(generated, 2)}
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{tmp}/demo.sqlite3")
        t0 = time.perf_counter()
        load_facility(db, data, actor="bench")
        out["load_s"] = round(time.perf_counter() - t0, 2)
        db.dispose()
    if rules:
        from assistant.wiring import load_facility_file

        with tempfile.TemporaryDirectory() as tmp:
            db = open_database(f"sqlite:///{tmp}/demo.sqlite3")
            t0 = time.perf_counter()
            load_facility_file(db, data, actor="operator", as_of=START)
            out["load_with_rules_s"] = round(time.perf_counter() - t0, 2)
            db.dispose()
    out["roles"] = dict(Counter(s["role"] for s in data["staff"]))
    out.update(figures(data, START))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["s", "m", "l"])
    parser.add_argument("--rules", action="store_true")
    args = parser.parse_args()
    print(json.dumps({size: measure(size, args.rules) for size in args.sizes}, indent=2))


if __name__ == "__main__":
    main()
