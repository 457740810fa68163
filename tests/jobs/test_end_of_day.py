"""End of day on demo 's' (Mon 30 Nov 2026, closing at 19:00 New York): each clinician with
unmarked sessions gets exactly their list as a Slack DM, once; by hand, a second run says so."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from assistant import callers
from assistant.jobs.end_of_day import PREVIEW, end_of_day
from assistant.usecases import attendance
from clinic.db import Database
from clinic.models import Staff
from clinic.outbox_models import OutboxMessage
from integrations.cli.main import run
from tests.slack.conftest import Slack

NY = ZoneInfo("America/New_York")
CLOSE = datetime(2026, 11, 30, 19, 0, tzinfo=NY)
DAY = CLOSE.date()


def _queued(db: Database) -> dict[str, Any]:
    """The end-of-day DMs queued, by clinician (status, payload, audit)."""
    with db.read() as session:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.channel == "slack", OutboxMessage.key.like("job:end-of-day:%")
            )
        )
        return {
            r.extra["request"].rsplit(":", 1)[1]: SimpleNamespace(
                status=r.status,
                payload=dict(r.context.get("payload") or {}),
                audit=dict(r.extra["audit"] or {}),
                template=r.template,
            )
            for r in rows
        }


def _unmarked(db: Database, staff: str) -> list[str]:
    caller = callers.for_staff(db, staff)
    rows = attendance.unmarked(db, caller, attendance.Unmarked(DAY, CLOSE, staff=staff))
    return sorted(r.id for r in rows)


@pytest.fixture()
def cli_db(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    monkeypatch.delenv("ROTA_END_OF_DAY_AT", raising=False)
    return demo_db


def test_rota_jobs_run_end_of_day_twice_sends_each_list_once(
    cli_db: Database, capsys: pytest.CaptureFixture[str], set_now: Callable[[datetime], None]
) -> None:
    set_now(CLOSE)
    db = cli_db
    c003 = _unmarked(db, "c003")
    marked = attendance.mark(
        db, callers.for_staff(db, "c003"), attendance.Mark(c003[0], "attended")
    )
    assert marked.status == "attended"
    with db.session() as session:  # one clinician with sessions today is not on Slack
        session.get(Staff, "c004").slack_user_id = None  # type: ignore[union-attr]

    assert run(["jobs", "run", "end-of-day", "--now", "2026-11-30T19:00"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("end-of-day (2026-11-30): done")
    queued = _queued(db)
    assert "dms_queued: 7" in out and "not_on_slack: ['c004']" in out and len(queued) == 7
    assert "c004" not in queued and _unmarked(db, "c004") != []
    for staff, row in queued.items():
        assert sorted(row.audit["appointments"]) == _unmarked(db, staff) != []
        assert row.audit["recipient"] == staff
        assert row.payload["text"] == PREVIEW  # the lock-screen preview names no one
        listed = row.payload["blocks"][0]["text"]["text"]
        assert listed.startswith(f"*{len(_unmarked(db, staff))} session(s) today (Mon 30 Nov)")
    assert c003[0] not in queued["c003"].audit["appointments"]

    assert run(["jobs", "run", "end-of-day", "--now", "2026-11-30T20:30"]) == 0
    assert capsys.readouterr().out.startswith("end-of-day (2026-11-30): already ran")
    assert len(_queued(db)) == 7
    # A take-over after a crash runs the task again: per clinician and day it queues nothing.
    assert end_of_day(db, CLOSE)["dms_already_queued"] == 7 and len(_queued(db)) == 7

    assert run(["jobs", "history", "--job", "end-of-day"]) == 0
    assert "2026-11-30        done     x1" in capsys.readouterr().out
    assert run(["jobs", "list"]) == 0
    assert "end-of-day     daily at 19:00" in capsys.readouterr().out


def test_settings_and_bad_input_are_named(
    cli_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROTA_END_OF_DAY_AT", "18:30")
    assert run(["jobs", "list"]) == 0
    assert "daily at 18:30" in capsys.readouterr().out
    monkeypatch.setenv("ROTA_END_OF_DAY_AT", "6pm")
    assert run(["jobs", "list"]) != 0
    assert "ROTA_END_OF_DAY_AT: '6pm' is not a time of day" in capsys.readouterr().err
    assert run(["jobs", "run", "end-of-dya"]) != 0
    assert "job: no job named 'end-of-dya' (jobs: end-of-day" in capsys.readouterr().err
    assert run(["jobs", "run", "end-of-day", "--now", "yesterday"]) != 0
    assert "--now: 'yesterday' is not a date-time" in capsys.readouterr().err
    assert run(["jobs", "history", "--limit", "0"]) != 0
    assert "--limit: must be at least 1" in capsys.readouterr().err
    assert run(["jobs", "history"]) == 0 and "no job has run yet" in capsys.readouterr().out


def test_the_slack_door_delivers_the_list_to_the_clinicians_dm_once(
    slack: Slack, set_now: Callable[[datetime], None]
) -> None:
    set_now(CLOSE)
    summary = end_of_day(slack.db, CLOSE)
    assert summary["dms_queued"] == 8
    # Re-run before the door sent anything (a take-over after a crash): queued once.
    assert end_of_day(slack.db, CLOSE)["dms_already_queued"] == 8
    slack.client.blocking_portal.call(slack.door.resend)  # what the door's sweep does
    slack.client.blocking_portal.call(slack.door.resend)
    # And again after they were sent: nothing new is owed.
    assert end_of_day(slack.db, CLOSE)["dms_queued"] == 0
    slack.client.blocking_portal.call(slack.door.resend)
    sent = slack.dm_to("c003")
    assert len(sent) == 1 and sent[0].args["text"] == PREVIEW
    assert "still have no attendance" in sent[0].texts()
    queued = _queued(slack.db)
    assert len(queued) == 8 and all(r.status == "sent" for r in queued.values())
    assert {r.template for r in queued.values()} == {"end_of_day"}
    posted = slack.fake.of("chat.postMessage")
    assert len(posted) == 8 == len({c.channel for c in posted})  # one DM each, none twice
