"""What a load balancer and Prometheus ask, without a token and without PHI:

- `GET /health`: the process answers (no database touch: a slow database must not get every
  process restarted).
- `GET /ready`: the database answers and its schema is this program's (503 with the reason
  otherwise): whether to send this process requests.
- `GET /metrics`: Prometheus' text format, this process's counters (clinic/metrics.py) and the
  database's gauges read at scrape time (assistant/usecases/operations.py). With
  ROTA_METRICS_TOKEN set, it needs `Authorization: Bearer <that token>`.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from assistant.usecases import operations
from clinic.db import Database
from integrations.http.tenants import Tenants

METRICS_TOKEN_ENV = "ROTA_METRICS_TOKEN"  # nosec B105  # the variable's name, not a secret
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass
class Health:
    status: Literal["ok"]


@dataclass
class Ready:
    status: Literal["ready", "not ready"]
    schema: Literal["current", "older", "newer", "none", "unreachable"]
    """current: at this program's newest migration; older: migrations pending; newer: migrated
    by a newer program (expand/contract keeps this one working); none: no Rota schema."""
    needs: str
    """This program's newest migration."""
    migration: str | None = None
    """The database's migration."""
    reason: str | None = None
    """Why not ready, and what to do."""
    network_migration: str | None = None
    """A server of one facility of a network: the `network` schema's migration."""
    network_needs: str | None = None
    """A server of one facility of a network: the `network` schema's migration it needs."""


@get("/health", tags=["operations"])
async def health() -> Health:
    """Liveness: the process answers. It never touches the database (`/ready` does). No
    authentication: no `security` here, while every /api route declares the bearer token."""
    return Health(status="ok")


@get(
    "/ready",
    tags=["operations"],
    sync_to_thread=True,
    responses={
        503: ResponseSpec(
            data_container=Ready,
            description="Not ready: the database does not answer, or its schema is not this "
            "program's (the reason says what to run).",
        )
    },
)
def ready(tenants: NamedDependency[Tenants]) -> Response[Ready]:
    """Readiness: the database answers and is at this program's migration (or a newer one)."""
    found = operations.readiness(tenants.facilities.default)  # this server's, whatever asks
    answer = Ready(
        status="ready" if found.ready else "not ready",
        schema=found.schema,
        needs=found.needs,
        migration=found.migration,
        reason=found.reason,
        network_migration=found.network_migration,
        network_needs=found.network_needs,
    )
    return Response(answer, status_code=200 if found.ready else 503)


def metrics_route(token: str | None) -> Any:
    """GET /metrics; when a token is set, the document says so (and 401 without it)."""
    responses = {
        200: ResponseSpec(
            data_container=str, media_type=CONTENT_TYPE_LATEST, description="Prometheus text"
        )
    }
    security = None
    if token:
        security = [{"bearer": []}]
        responses[401] = ResponseSpec(data_container=str, description="no or wrong token")

    @get(
        "/metrics",
        tags=["operations"],
        sync_to_thread=True,
        media_type=CONTENT_TYPE_LATEST,
        responses=responses,
        security=security,
    )
    def metrics(
        request: Request[Any, Any, Any], tenants: NamedDependency[Tenants]
    ) -> Response[str]:
        """Prometheus metrics: request latency by route template, bookings, conflicts, solver
        seconds by kind (this process's), and the outbox's depth, its oldest due message's age
        and the job lag (the database's, the same from every process)."""
        if token:
            sent = request.headers.get("authorization", "").partition(" ")[2].strip()
            if not hmac.compare_digest(sent.encode(), token.encode()):
                raise NotAuthorizedException(
                    f"/metrics needs `Authorization: Bearer <{METRICS_TOKEN_ENV}>`",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        db = tenants.facilities.default  # this server's gauges, never a facility switch
        return Response(exposition(db), media_type=CONTENT_TYPE_LATEST)

    return metrics


def exposition(db: Database) -> str:
    """This process's counters (all `rota serve --workers` processes' when
    PROMETHEUS_MULTIPROC_DIR is set), then the database's gauges, read now."""
    if os.environ.get(MULTIPROCESS_ENV):
        counters: CollectorRegistry = CollectorRegistry()
        MultiProcessCollector(counters)  # type: ignore[no-untyped-call]
    else:
        counters = REGISTRY
    now = CollectorRegistry()
    now.register(DatabaseGauges(operations.gauges(db)))
    return (generate_latest(counters) + generate_latest(now)).decode()


class DatabaseGauges:
    """The database's figures as gauges of one scrape (never a process's Gauge: under
    PROMETHEUS_MULTIPROC_DIR that would write files the next scrape sums)."""

    def __init__(self, figures: operations.Gauges) -> None:
        self.figures = figures

    def collect(self) -> Iterator[GaugeMetricFamily]:
        f = self.figures
        yield GaugeMetricFamily(
            "rota_outbox_pending", "Outbox messages waiting to be sent.", value=f.outbox_pending
        )
        yield GaugeMetricFamily(
            "rota_outbox_oldest_due_age_seconds",
            "How long the oldest due outbox message has waited past its time (0: none due).",
            value=f.outbox_oldest_due_seconds,
        )
        yield GaugeMetricFamily(
            "rota_job_lag_seconds",
            "How long the oldest due job run has waited (0: none due).",
            value=f.job_lag_seconds,
        )


def metrics_token() -> str | None:
    return os.environ.get(METRICS_TOKEN_ENV, "").strip() or None
