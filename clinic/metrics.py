"""This process's Prometheus counters: what happened here since it started.

Every layer may count (the booking service its bookings and conflicts, the optimizer its solver
seconds, the HTTP door its requests), so the metrics live in the bottom room and name no patient,
staff member or path: a label is a route template, a method, a status, a kind or a reason, from a
fixed and small set. Figures that must be the same whichever process is asked (the outbox's depth,
the jobs' lag) are read from the database at scrape time instead (assistant/usecases/operations.py).

Several `rota serve` processes each keep their own counters; Prometheus scrapes each one and sums.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from prometheus_client import Counter, Histogram

SolverKind = Literal["slots", "plan", "repair"]
ConflictReason = Literal["taken", "rules"]

REQUEST_SECONDS = Histogram(
    "rota_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template (never the raw path), method and status.",
    ("route", "method", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
BOOKINGS = Counter("rota_bookings", "Appointments booked (committed) by this process.")
CONFLICTS = Counter(
    "rota_booking_conflicts",
    "Bookings refused: the time was taken by someone else (taken) or a rule said no (rules).",
    ("reason",),
)
SOLVER_SECONDS = Histogram(
    "rota_solver_seconds",
    "Wall time of the solver by kind: a slot search, a period's plan, a repair.",
    ("kind",),
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)

for _reason in ("taken", "rules"):  # both series exist from the start (a rate needs a zero)
    CONFLICTS.labels(_reason)


def booked(count: int) -> None:
    BOOKINGS.inc(count)


def conflict(reason: ConflictReason) -> None:
    CONFLICTS.labels(reason).inc()


@contextmanager
def solver_time(kind: SolverKind) -> Iterator[None]:
    """Time the block as the solver's work of this kind (also when it raises)."""
    began = time.perf_counter()
    try:
        yield
    finally:
        SOLVER_SECONDS.labels(kind).observe(time.perf_counter() - began)
