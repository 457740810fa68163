"""Slack door benchmark: from a signed event arriving at POST /slack/events to its
acknowledgement, and to the follow-up message reaching the (fake) Slack Web API.

A real uvicorn server runs the Litestar app on the demo facility (default size m); a local HTTP
server stands in for Slack's Web API (ROTA_SLACK_API_URL). Each event is a case manager's DM
asking for slots for a different patient, which runs the parser and the slot solver after the
ack. Two phases: one at a time (clean follow-up latency), then a burst sent back to back (acks
while earlier requests are still being solved). Prints one JSON document.

    .venv/bin/python bench/slack.py [--size m] [--events 40] [--burst 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import logging

import httpx
import uvicorn
from sqlalchemy import select

from assistant.dialogue import Dialogue
from clinic.db import open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.models import Patient, Staff
from integrations.http.app import create_app
from integrations.slack.route import door_of
from tests.slack import harness
from tests.slack.fake_slack import FakeSlack

START = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=ZoneInfo("America/New_York"))


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p95": at(0.95),
        "max": round(ordered[-1] * 1000, 1),
        "n": len(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="m", choices=["s", "m", "l", "xl"])
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--port", type=int, default=18765)
    args = parser.parse_args()

    logging.getLogger("httpx").setLevel(logging.WARNING)
    fake = FakeSlack()
    os.environ.update(
        SLACK_SIGNING_SECRET=harness.SIGNING_SECRET,
        SLACK_BOT_TOKEN=harness.BOT_TOKEN,
        ROTA_SLACK_API_URL=fake.url,
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = open_database(url)
        began = time.perf_counter()
        load_facility(db, generate_demo(args.size, seed=7, start=START), actor="bench")
        load_seconds = time.perf_counter() - began
        with db.session() as session:
            asker = session.scalars(
                select(Staff).where(Staff.role == "case_manager").order_by(Staff.position)
            ).first()
            assert asker is not None and asker.slack_user_id
            user = asker.slack_user_id
            names = list(session.scalars(select(Patient.name).order_by(Patient.position)))
        app = create_app(db, dialogue=Dialogue(db, clock=lambda: NOW))
        door = door_of(app)
        assert door is not None
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="error")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{args.port}/slack/events"
        channel = harness.dm_channel(user)

        def answered() -> int:
            return sum(1 for c in fake.of("chat.postMessage") if c.channel == channel)

        def send(client: httpx.Client, i: int) -> tuple[float, float]:
            text = f"find an individual slot for {names[i % len(names)]} tomorrow afternoon"
            body, headers = harness.signed(
                harness.event_body(harness.dm_event(user, text)), "application/json"
            )
            sent = time.monotonic()
            response = client.post(base, content=body, headers=headers)
            acked = time.monotonic()
            assert response.status_code == 200, response.text
            return sent, acked

        def settle(expected: int, timeout: float = 300.0) -> None:
            deadline = time.monotonic() + timeout
            while answered() < expected and time.monotonic() < deadline:
                time.sleep(0.005)

        with httpx.Client(timeout=30) as client:
            send(client, 0)  # warm up: auth.test, roster, first solver build
            settle(1)
            ack, follow = [], []
            for i in range(1, args.events + 1):
                before = answered()
                sent, acked = send(client, i)
                settle(before + 1)
                reply = [c for c in fake.of("chat.postMessage") if c.channel == channel][-1]
                ack.append(acked - sent)
                follow.append(reply.at - sent)
            before = answered()
            sends = [send(client, args.events + 1 + i) for i in range(args.burst)]
            settle(before + args.burst)
            replies = [c for c in fake.of("chat.postMessage") if c.channel == channel][before:]
            burst_ack = [a - s for s, a in sends]
            burst_follow = [r.at - sends[0][0] for r in replies]
        while not door.idle():
            time.sleep(0.01)
        server.should_exit = True
        thread.join(timeout=10)
        result: dict[str, Any] = {
            "benchmark": "slack",
            "facility": args.size,
            "database": db.dialect,
            "facility_load_s": round(load_seconds, 2),
            "sequential": {
                "ack_ms": percentiles(ack),
                "follow_up_ms": percentiles(follow),
            },
            "burst": {
                "events": args.burst,
                "ack_ms": percentiles(burst_ack),
                "last_follow_up_after_first_send_ms": round(max(burst_follow) * 1000, 1)
                if burst_follow
                else None,
                "follow_ups_received": len(replies),
            },
            "ack_p95_under_1s": max(percentiles(ack)["p95"], percentiles(burst_ack)["p95"]) < 1000,
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cpu",
        }
        db.dispose()
    fake.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
