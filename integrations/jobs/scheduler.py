"""The embedded engine: a thread in `rota serve` that, every `interval` seconds, runs the jobs
due now (cron-like, in the facility's timezone: daily at a local time, or every N minutes).

Its first tick happens at start, so a daily run missed while the server was down (the morning
cycle at 06:00, the server started at 07:10) is caught up once. The claim in the database keeps
each key to one run even with several servers ticking. On a network of facilities each tick
runs every facility's due jobs, one facility after the other (assistant.jobs.sites): the
embedded engine suits a few facilities; a network runs `rota worker` processes instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from assistant.jobs import JobOutcome, run_due
from assistant.jobs.sites import Sites
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
        self.sites = Sites(db)
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ran: list[JobOutcome] = []
        """What this scheduler ran (kept for `rota serve`'s log and for tests)."""

    def tick(self) -> list[JobOutcome]:
        """Run what is due at the clock's now, for each facility; a failing job is logged,
        never fatal, and one facility's trouble does not hold up the others."""
        now = self.clock()
        try:
            databases = self.sites.databases()
        except Exception as exc:  # the database is down: try next tick
            log.error("job scheduler tick failed: %s: %s", exc.__class__.__name__, exc)
            return []
        outcomes: list[JobOutcome] = []
        for db in databases:
            try:
                outcomes.extend(run_due(db, now))
            except Exception as exc:  # a setting is wrong, a schema is missing: next tick
                where = f" (facility {db.facility})" if db.facility else ""
                log.error("job scheduler tick failed%s: %s: %s", where, exc.__class__.__name__, exc)
        for outcome in outcomes:
            where = f", facility {outcome.facility}" if outcome.facility else ""
            log.info("job %s (%s%s): %s", outcome.job, outcome.key, where, outcome.status)
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
        self.sites.dispose()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval)
