"""Minimum data kept (issue 19, item 5): what Rota no longer needs is purged after the retention
period, once a day and by `rota purge`; the audit log and the access log never are."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from assistant import retention
from assistant.jobs import load_jobs, run_job
from clinic.access_log import record_reads
from clinic.audit import verify_chain
from clinic.auth_models import AuthFailure
from clinic.db import Database
from clinic.job_models import JobRun
from clinic.models import AccessEvent, AuditEvent, Base, ConversationState, Proposal, Staff
from clinic.outbox_models import OutboxMessage, PatientReply
from clinic.slack_models import SlackInbox
from clinic.tokens import Caller
from clinic.waitlist_models import WaitlistEntry, WaitlistOffer
from clinic.web_models import SignInLink, WebSession
from integrations.cli.main import run

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
OLD = NOW - timedelta(days=45)
RECENT = NOW - timedelta(days=3)


def _staff(db: Database) -> str:
    with db.read() as session:
        staff = session.scalar(select(Staff.id).order_by(Staff.position).limit(1))
    assert staff is not None
    return staff


def _outbox(key: str, status: str, at: datetime, sent: datetime | None = None) -> OutboxMessage:
    return OutboxMessage(
        key=key,
        channel="sms",
        recipient="+15555550123",
        patient_id=None,
        template="reminder",
        context={} if status != "pending" else {"name": "x"},
        appointment_ids=[],
        status=status,
        attempts=1,
        next_attempt_at=at,
        created_at=at,
        sent_at=sent,
    )


def _inbox(key: str, status: str, at: datetime) -> SlackInbox:
    done = status in {"done", "failed"}
    return SlackInbox(
        key=key,
        kind="message",
        status=status,
        slack_user="U1",
        channel="D1",
        payload={} if done else {"text": "book"},
        attempts=1,
        received_at=at,
        finished_at=at if done else None,
    )


def _session(staff: str, token: str, *, seen: datetime, expires: datetime, ended: bool = False):
    return WebSession(
        staff_id=staff,
        token_hash=token.ljust(64, "0"),
        csrf_token="c",
        created_at=seen - timedelta(minutes=1),
        last_seen_at=seen,
        expires_at=expires,
        ended_at=seen if ended else None,
    )


def _link(staff: str, token: str, *, expires: datetime, used: bool = False) -> SignInLink:
    return SignInLink(
        staff_id=staff,
        token_hash=token.ljust(64, "0"),
        created_at=expires - timedelta(minutes=15),
        created_by="operator",
        expires_at=expires,
        used_at=expires - timedelta(minutes=10) if used else None,
    )


def _offer(entry: int, slot: str, status: str, expires: datetime) -> WaitlistOffer:
    decided = expires - timedelta(hours=1) if status != "open" else None
    return WaitlistOffer(
        entry_id=entry,
        patient_id="p0001",
        slot_key=slot,
        session_type_id="individual",
        start=expires + timedelta(days=1),
        end=expires + timedelta(days=1, hours=1),
        staff_id="c003",
        channel="case_manager",
        rank=1,
        score=1.0,
        reasons=[{"why": "waiting longest"}],
        status=status,
        expires_at=expires,
        created_at=expires - timedelta(hours=4),
        decided_at=decided,
    )


def _proposal(pid: str, status: str, at: datetime) -> Proposal:
    settled = status != "pending"
    return Proposal(
        id=pid,
        kind="absence",
        status=status,
        created_by="c003",
        payload={"moves": [{"appointment": "a1", "before": {"patients": ["p0001"]}}]},
        created_at=at,
        decided_by="s001" if settled else None,
        decided_at=at if settled else None,
        outcome={"unplaced": [{"patients": ["p0001"]}]} if settled else None,
    )


def _run(key: str, status: str, at: datetime, error: str | None) -> JobRun:
    done = status != "started"
    return JobRun(
        job="outbox",
        key=key,
        status=status,
        started_at=at,
        finished_at=at if done else None,
        summary={"sent": 1},
        error=error,
    )


def _failure(at: datetime) -> AuthFailure:
    return AuthFailure(
        at=at, client="203.0.113.9", door="http", reason="unknown", prefix_digest="ab"
    )


@pytest.fixture()
def aged(demo_db: Database) -> Database:
    """Each purged table with rows past the period (or spent) and rows still needed."""
    staff = _staff(demo_db)
    with demo_db.session() as s:
        entry = WaitlistEntry(
            patient_id="p0001",
            session_type_id="individual",
            priority=0,
            status="waiting",
            created_at=OLD,
            created_by="s006",
            updated_at=OLD,
        )
        s.add(entry)
        s.flush()
        s.add_all(
            [
                _offer(entry.id, "old-declined", "declined", OLD),
                _offer(entry.id, "old-expired", "expired", OLD),
                _offer(entry.id, "old-open-long-past", "open", OLD),  # ended, never swept
                _offer(entry.id, "recent-taken", "taken", RECENT),  # within the period
                _offer(entry.id, "open", "open", NOW + timedelta(hours=2)),  # still on offer
                _proposal("P-old-applied", "applied", OLD),
                _proposal("P-old-rejected", "rejected", OLD),
                _proposal("P-old-pending", "pending", OLD),  # still waiting: kept whole
                _proposal("P-recent", "applied", RECENT),
                _run("old-failed", "failed", OLD, "KeyError: 'Laura Fox'"),
                _run("old-done", "done", OLD, None),
                _run("recent-failed", "failed", RECENT, "timeout"),
                _failure(OLD),
                _failure(OLD + timedelta(minutes=1)),
                _failure(RECENT),
                ConversationState(id="conv-old", staff_id=staff, state={"p": "x"}, updated_at=OLD),
                ConversationState(id="conv-live", staff_id=staff, state={}, updated_at=RECENT),
                _outbox("old-sent", "sent", OLD, OLD),
                _outbox("old-dead", "dead", OLD),
                _outbox("old-refused", "refused", OLD),
                _outbox("old-pending", "pending", OLD),  # still owed: kept
                _outbox("recent-sent", "sent", RECENT, RECENT),
                _outbox("old-but-sent-lately", "sent", OLD, RECENT),
                _inbox("ev-old", "done", OLD),
                _inbox("ev-old-failed", "failed", OLD),
                _inbox("ev-old-running", "running", OLD),  # unanswered: the door reruns it
                _inbox("ev-recent", "done", RECENT),
                PatientReply(
                    key="SM-old",
                    patient_id=None,
                    answer="confirm",
                    appointment_ids=[],
                    received_at=OLD,
                ),
                PatientReply(
                    key="SM-new",
                    patient_id=None,
                    answer="confirm",
                    appointment_ids=[],
                    received_at=RECENT,
                ),
                _session(
                    staff, "a", seen=NOW - timedelta(minutes=2), expires=NOW + timedelta(hours=8)
                ),
                _session(
                    staff, "b", seen=NOW - timedelta(hours=2), expires=NOW + timedelta(hours=8)
                ),
                _session(
                    staff,
                    "c",
                    seen=NOW - timedelta(minutes=2),
                    expires=NOW + timedelta(hours=1),
                    ended=True,
                ),
                _session(
                    staff, "d", seen=NOW - timedelta(hours=13), expires=NOW - timedelta(hours=1)
                ),
                _link(staff, "e", expires=NOW + timedelta(minutes=10)),
                _link(staff, "f", expires=NOW + timedelta(minutes=10), used=True),
                _link(staff, "g", expires=NOW - timedelta(minutes=1)),
            ]
        )
    return demo_db


EXPECTED = {
    "conversation_state": 1,
    "outbox_message": 3,
    "slack_inbox": 2,
    "patient_reply": 1,
    "web_session": 3,  # idle past 15 min, ended, expired
    "sign_in_link": 2,  # used, expired
    "waitlist_offer": 3,  # declined, expired, open but expired long ago
    "auth_failure": 2,
    "proposal_payload": 2,  # applied, rejected (the rows stay)
    "job_run_error": 1,  # the row stays
}


def _keys(db: Database) -> dict[str, set[str]]:
    with db.read() as s:
        return {
            "conversation_state": set(s.scalars(select(ConversationState.id))),
            "outbox_message": set(s.scalars(select(OutboxMessage.key))),
            "slack_inbox": set(s.scalars(select(SlackInbox.key))),
            "patient_reply": set(s.scalars(select(PatientReply.key))),
            "web_session": {h[0] for h in s.scalars(select(WebSession.token_hash))},
            "sign_in_link": {h[0] for h in s.scalars(select(SignInLink.token_hash))},
            "waitlist_offer": set(s.scalars(select(WaitlistOffer.slot_key))),
        }


def _table_counts(db: Database) -> dict[str, int]:
    with db.read() as s:
        return {
            t: int(s.scalar(select(func.count()).select_from(text(t))) or 0)
            for t in Base.metadata.tables
        }


def test_old_rows_go_and_what_is_still_needed_stays(aged: Database) -> None:
    before = _table_counts(aged)
    report = retention.purge(aged, NOW)
    assert report.counts == EXPECTED and report.days == 30 and not report.dry_run
    keys = _keys(aged)
    assert keys["conversation_state"] == {"conv-live"}  # updated within the period
    assert keys["outbox_message"] == {"old-pending", "recent-sent", "old-but-sent-lately"}
    assert keys["slack_inbox"] == {"ev-old-running", "ev-recent"}
    assert keys["patient_reply"] == {"SM-new"}
    assert keys["web_session"] == {"a"}  # live: seen 2 minutes ago, not expired, not ended
    assert keys["sign_in_link"] == {"e"}  # unused and within its 15 minutes
    assert keys["waitlist_offer"] == {"recent-taken", "open"}
    with aged.read() as s:
        failures = list(s.scalars(select(AuthFailure.at)))
        assert [f.replace(tzinfo=UTC) for f in failures] == [RECENT]
        proposals = {p.id: (p.status, p.payload, p.outcome) for p in s.scalars(select(Proposal))}
        errors = {row.key: row.error for row in s.scalars(select(JobRun))}
    # Settled and old: the row says what happened, by whom, when; not what it moved or whom.
    assert proposals["P-old-applied"] == ("applied", {}, None)
    assert proposals["P-old-rejected"] == ("rejected", {}, None)
    assert proposals["P-old-pending"][1]["moves"] and proposals["P-recent"][1]["moves"]
    assert errors["old-failed"] is None and errors["recent-failed"] == "timeout"
    assert "old-done" in errors  # job runs are kept: only the error text goes

    after = _table_counts(aged)
    for table, n in before.items():
        if table == "audit_event":
            assert after[table] == n + 1  # the purge's own event; nothing removed
        elif table not in retention.PURGED:
            assert after[table] == n, f"{table} must not be touched by retention"


def test_one_audit_event_with_counts_and_never_content(aged: Database) -> None:
    retention.purge(aged, NOW)
    with aged.read() as s:
        events = list(
            s.execute(
                select(AuditEvent.actor, AuditEvent.after).where(
                    AuditEvent.action == "retention.purge"
                )
            )
        )
        assert verify_chain(s).ok
    assert len(events) == 1
    actor, after = events[0]
    assert actor == retention.ACTOR
    assert after["counts"] == EXPECTED and after["days"] == 30
    assert "+15555550123" not in json.dumps(after) and "conv-old" not in json.dumps(after)


def test_the_audit_log_and_the_access_log_are_never_purged(aged: Database) -> None:
    """HIPAA keeps audit documentation six years: however short the period, those stay."""
    assert not set(retention.PURGED) & {"audit_event", "access_event"}
    assert set(retention.NEVER_PURGED) >= {"audit_event", "access_event"}
    record_reads(aged, Caller("s001", "Director", "clinical_director"), "patient.view", ["p0001"])
    with aged.read() as s:
        audit_before = int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0)
        access_before = int(s.scalar(select(func.count()).select_from(AccessEvent)) or 0)
    assert audit_before > 0 and access_before > 0  # the demo load is audited; a read logged
    report = retention.purge(aged, NOW + timedelta(days=3650), days=1)
    assert report.counts["auth_failure"] == 3  # every failed sign-in is past that period
    with aged.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == audit_before + 1
        assert s.scalar(select(func.count()).select_from(AccessEvent)) == access_before
        assert verify_chain(s).ok


def test_dry_run_changes_nothing(aged: Database) -> None:
    before_keys, before_counts = _keys(aged), _table_counts(aged)
    report = retention.purge(aged, NOW, dry_run=True)
    assert report.dry_run and report.counts == EXPECTED and report.total == 20
    assert (report.deleted, report.cleared) == (17, 3)
    assert _keys(aged) == before_keys and _table_counts(aged) == before_counts  # no audit event


def test_retention_days_from_the_environment(
    aged: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROTA_RETENTION_DAYS", "60")  # the 45-day-old rows are within it
    report = retention.purge(aged, NOW, dry_run=True)
    assert report.days == 60
    assert report.counts["conversation_state"] == 0 and report.counts["web_session"] == 3


def test_cli_counts_dry_run_then_purge(
    aged: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", aged.url)
    assert run(["purge", "--dry-run", "--json", "--now", NOW.isoformat()]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] is True and dry["counts"] == EXPECTED
    assert run(["purge", "--dry-run", "--now", NOW.isoformat()]) == 0
    listed = capsys.readouterr().out
    assert "would delete 17 row(s), would clear 3 (row kept)" in listed
    assert "waitlist_offer       3" in listed and "auth_failure         2" in listed
    assert "proposal_payload     2  (cleared)" in listed
    assert "job_run_error        1  (cleared)" in listed
    assert run(["purge", "--now", NOW.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "deleted 17 row(s), cleared 3" in out and "conversation_state   1" in out
    assert run(["purge", "--now", NOW.isoformat()]) == 0
    assert "deleted 0 row(s), cleared 0" in capsys.readouterr().out  # nothing left to purge


def test_cli_refuses_a_bad_period(
    aged: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", aged.url)
    monkeypatch.setenv("ROTA_RETENTION_DAYS", "a month")
    assert run(["purge", "--dry-run"]) != 0
    err = capsys.readouterr().err
    assert "ROTA_RETENTION_DAYS must be a whole number" in err and "Traceback" not in err
    assert run(["purge", "--days", "0"]) == 2  # typer refuses it before anything runs


def test_the_daily_job_purges_at_a_quiet_hour(
    aged: Database, set_now: Callable[[datetime], None]
) -> None:
    job = load_jobs()["retention"]
    assert job.daily_at == "03:30"
    set_now(NOW)
    outcome = run_job(aged, "retention", NOW)
    assert outcome.status == "done"
    assert {k: outcome.summary[k] for k in EXPECTED} == EXPECTED and outcome.summary["days"] == 30
    assert _keys(aged)["conversation_state"] == {"conv-live"}


@pytest.mark.postgres
def test_clearing_once_on_postgresql(pg_demo_db: Database) -> None:
    """PostgreSQL's JSON has no equality: a cleared payload is told by its text, so a second
    run clears nothing again."""
    with pg_demo_db.session() as s:
        s.add_all([_proposal("P-old", "applied", OLD), _run("old", "failed", OLD, "boom")])
    first = retention.purge(pg_demo_db, NOW)
    assert (first.counts["proposal_payload"], first.counts["job_run_error"]) == (1, 1)
    again = retention.purge(pg_demo_db, NOW, dry_run=True)
    assert again.counts["proposal_payload"] == 0 and again.counts["job_run_error"] == 0
    with pg_demo_db.read() as s:
        row = s.get(Proposal, "P-old")
        assert row is not None and (row.payload, row.outcome) == ({}, None)
