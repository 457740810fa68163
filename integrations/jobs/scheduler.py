"""The embedded engine: a thread in `rota serve` that, every `interval` seconds, runs the jobs
due now (cron-like, in the facility's timezone: daily at a local time, or every N minutes).

Its first tick happens at start, so a daily run missed while the server was down (the morning
cycle at 06:00, the server started at 07:10) is caught up once. The claim in the database keeps
each key to one run even with several servers ticking.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from assistant.jobs import JobOutcome, run_due
from clinic.db import Database
from clinic.timeutil import now_utc

log = logging.getLogger("rota.jobs")

DEFAULT_INTERVAL = 30.0


class Scheduler:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = now_utc,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self.db = db
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ran: list[JobOutcome] = []
        """What this scheduler ran (kept for `rota serve`'s log and for tests)."""

    def tick(self) -> list[JobOutcome]:
        """Run what is due at the clock's now; a failing job is logged, never fatal."""
        try:
            outcomes = run_due(self.db, self.clock())
        except Exception as exc:  # the database is down, a setting is wrong: try next tick
            log.error("job scheduler tick failed: %s: %s", exc.__class__.__name__, exc)
            return []
        for outcome in outcomes:
            log.info("job %s (%s): %s", outcome.job, outcome.key, outcome.status)
        self.ran.extend(outcomes)
        return outcomes

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="rota-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval)
