"""Schemathesis, in-process, against the live app over demo s: what the test_openapi_*.py files
share (one file per caller or concern, so xdist runs them on different workers).

Every route the app has is fuzzed (the document is read from the app), so a new route must
follow the rules in README "The API document"."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from litestar import Litestar
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine.recorder import ScenarioRecorder

from clinic.db import Database
from clinic.tokens import create_token
from integrations.http.app import create_app

DIRECTOR, THERAPIST, OTHER_THERAPIST = "s001", "c004", "c003"
SEED = 14
EXAMPLES = 5  # per operation, fuzzing and stateful phases
# The project's schemathesis settings (the one narrowing: 422 may answer valid data).
PROJECT = tomllib.loads((Path(__file__).parents[2] / "schemathesis.toml").read_text())


@pytest.fixture()
def fuzzed_app(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> Litestar:
    """The app as deployed with its webhooks configured (unconfigured, they answer a documented
    503). Slack's API URL points at a closed local port: the tests stay offline."""
    for name, value in {
        # The fuzzer sends hundreds of wrong tokens from one client: it checks the 401s, not
        # the lockout (tests/security/test_tokens_attack.py does).
        "ROTA_AUTH_MAX_FAILURES": "1000000",
        "ROTA_AUTH_CLIENT_RATE": "1000000/minute",
        "ROTA_AUTH_PREFIX_RATE": "1000000/minute",
        "SLACK_SIGNING_SECRET": "fuzz-secret",
        "SLACK_BOT_TOKEN": "xoxb-fuzz",
        "ROTA_SLACK_API_URL": "http://127.0.0.1:9/",
        "TWILIO_AUTH_TOKEN": "fuzz-secret",
    }.items():
        monkeypatch.setenv(name, value)
    return create_app(demo_db)


@dataclass(frozen=True)
class Paths:
    """Some of the operations: those whose path matches `regex` (or, `outside`, does not),
    with `method` only when given."""

    regex: str
    outside: bool = False
    method: str | None = None

    def pick(self, schema: Any) -> Any:
        method = {"method": self.method} if self.method else {}
        if self.outside:
            return schema.exclude(path_regex=self.regex, **method)
        return schema.include(path_regex=self.regex, **method)


# The patient record's routes: half the coverage phase's time, so it runs on its own.
PATIENT_ROUTES = "^/api/patients"


@dataclass
class Run:
    """What one schemathesis run did: cases sent, each check's outcomes, the failures (one
    line each), and object_level_authorization's replays of an owner's read as a peer."""

    cases: int = 0
    checks: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    replays: Counter[tuple[str, int]] = field(default_factory=Counter)
    """(operation, the peer's status) → how many: a read sent again as the other peer."""


def run(
    app: Litestar,
    settings: dict[str, Any],
    *,
    peers: tuple[str, ...] = (),
    paths: Paths | None = None,
) -> Run:
    """Every scenario of a seeded, deterministic run with the project's settings and these;
    `paths`: only the operations it picks."""
    config = SchemathesisConfig.from_dict(
        PROJECT
        | {
            "seed": SEED,
            "workers": 1,
            # The first chat message loads the redactor (seconds on a loaded machine).
            "request-timeout": 60,
            "generation": {"max-examples": EXAMPLES, "deterministic": True},
        }
        | settings
    )
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=config)
    if paths is not None:
        schema = paths.pick(schema)
    result = Run()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            result.cases += len(event.recorder.cases)
            for check in (c for checks in event.recorder.checks.values() for c in checks):
                result.checks[(check.name, check.status.name)] += 1
                if check.status == Status.FAILURE and check.failure_info is not None:
                    failure = check.failure_info.failure
                    result.failures.append(f"{failure.operation} {failure.code} {failure.title}")
            result.replays.update(replays(event.recorder, peers))
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            result.failures.append(f"error: {event!r}")
    result.failures = sorted(set(result.failures))
    return result


def replays(recorder: ScenarioRecorder, peers: tuple[str, ...]) -> Iterator[tuple[str, int]]:
    """object_level_authorization's probes, read from what schemathesis recorded: a GET sent as
    one peer, child of the same operation's GET answered to another peer (the owner). Its
    other probes (the list as the peer, the read with no credentials) are other operations or
    no peer's, so they are not counted."""
    for node in recorder.cases.values():
        parent = recorder.cases.get(node.parent_id) if node.parent_id else None
        case = node.value
        if parent is None or case.method != "GET" or case.operation != parent.value.operation:
            continue
        owner, peer = parent.value.auth_identity, case.auth_identity
        interaction = recorder.interactions.get(case.id)
        if owner in peers and peer in peers and owner != peer and interaction is not None:
            status = interaction.response.status_code if interaction.response else 0
            yield f"{case.method} {case.operation.path}", status


def fuzz(
    app: Litestar,
    db: Database,
    staff: str,
    *,
    coverage: bool,
    fuzzing: bool = True,
    paths: Paths | None = None,
) -> Run:
    """Every schemathesis check with one staff member's token. `coverage`: the coverage phase
    (~4,000 boundary and negative cases, the same requests for any caller: most of the time);
    `fuzzing`: the examples, fuzzing and stateful phases."""
    with db.session() as session:
        token = create_token(session, staff)
    return run(
        app,
        {
            "headers": {"Authorization": f"Bearer {token}"},
            "phases": {
                "examples": {"enabled": fuzzing},
                "coverage": {"enabled": coverage},
                "fuzzing": {"enabled": fuzzing},
                "stateful": {"enabled": fuzzing},
            },
        },
        paths=paths,
    )


def identities(db: Database, path: Path, *staff: str) -> Path:
    """A Web Fuzzing Commons auth document naming each staff member's bearer token."""
    users = []
    for staff_id in staff:
        with db.session() as session:
            token = create_token(session, staff_id)
        users.append(
            {
                "name": staff_id,
                "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}],
            }
        )
    path.write_text(json.dumps({"auth": users}))
    return path


def auth_checks(
    app: Litestar,
    db: Database,
    tmp_path: Path,
    *,
    paths: Paths | None = None,
    stateful: bool = True,
) -> Run:
    """ignored_auth and object_level_authorization only, with two therapists as peers (the
    first is tried first on every operation: the owner of what it reads). `stateful`: the
    examples and stateful phases too, not the fuzzing phase alone."""
    peers = (THERAPIST, OTHER_THERAPIST)
    wfc = identities(db, tmp_path / "auth.json", *peers)
    return run(
        app,
        {
            "auth": {"wfc": {"path": str(wfc), "peers": list(peers)}},
            "phases": {
                "coverage": {"enabled": False},
                "examples": {"enabled": stateful},
                "stateful": {"enabled": stateful},
            },
            "checks": {
                "enabled": False,
                "ignored_auth": {"enabled": True},
                "object_level_authorization": {"enabled": True},
            },
        },
        peers=peers,
        paths=paths,
    )
