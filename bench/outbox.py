"""Outbox throughput: messages per second queued, and sent through the outbox to a local SMTP
server (aiosmtpd on loopback), on a fresh SQLite database. Prints one JSON document.

    .venv/bin/python bench/outbox.py [--messages 500] [--batch 200]

Each message goes the whole way a reminder goes after it is queued: claimed in a batch (a
lease), rendered from its template, sent over its own SMTP connection (smtplib), marked sent
and audited (hash-chained audit log) in its own transaction.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant import outbox
from clinic.db import open_database
from integrations import notify
from tests.notify.peers import SmtpPeer

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
"""A fixed moment (Tue 1 Dec 2026, 09:00 in New York), so every run measures the same work."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    now = NOW
    with tempfile.TemporaryDirectory() as folder, SmtpPeer() as smtp:
        db = open_database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        channels = notify.from_env(
            {"ROTA_SMTP_URL": smtp.url, "ROTA_MAIL_FROM": "appointments@example.org"}
        )
        started = time.perf_counter()
        with db.session() as session:
            for i in range(args.messages):
                outbox.enqueue(
                    session,
                    channel="email",
                    recipient=f"patient{i}@example.org",
                    template="reminder",
                    context={
                        "when": "Tue 01 Dec at 10:00",
                        "place": "12 Elm St",
                        "callback": "555",
                    },
                    key=f"bench:{i}",
                    appointment_ids=[f"a{i:05d}"],
                    now=now,
                )
        queued = time.perf_counter() - started
        started = time.perf_counter()
        sent = 0
        while sent < args.messages:
            counts = outbox.drain(db, now, channels, limit=args.batch)
            if not counts["sent"]:
                break
            sent += counts["sent"]
        elapsed = time.perf_counter() - started
        db.dispose()
        print(
            json.dumps(
                {
                    "bench": "outbox",
                    "database": "sqlite",
                    "channel": "email (SMTP on loopback, aiosmtpd)",
                    "messages": args.messages,
                    "received_by_smtp": len(smtp.mailbox.messages),
                    "enqueue_per_second": round(args.messages / queued, 1),
                    "sent_per_second": round(sent / elapsed, 1) if elapsed else None,
                    "seconds_sending": round(elapsed, 2),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
