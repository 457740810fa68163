"""What every FHIR route needs: the facility's context (namespace, zone, session type names,
the base URL the client used), responses in FHIR JSON, validated, and strict search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response

from assistant.usecases.directory import Directory
from integrations.fhir.mapping import FhirContext, validated
from integrations.http.fhir.outcome import FHIR_JSON
from integrations.http.fhir.search import BadSearch

ROOT = "/fhir/r4"
ALWAYS = frozenset({"_format"})
"""Parameters every interaction accepts (the format, checked by the negotiation guard)."""


@dataclass(frozen=True)
class Facade:
    """One request's view of the facility in FHIR terms."""

    ctx: FhirContext
    tz: ZoneInfo
    directory: Directory

    @property
    def base(self) -> str:
        return self.ctx.base_url


def base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/") + ROOT


def facade(request: Request[Any, Any, Any], directory: Directory) -> Facade:
    ctx = FhirContext.for_facility(directory.as_file(), base_url(request))
    return Facade(ctx, ZoneInfo(ctx.timezone), directory)


def fhir(
    resource: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    """The resource, validated by its R4B model, as application/fhir+json."""
    return Response(validated(resource), status_code=status, media_type=FHIR_JSON, headers=headers)


def strict(request: Request[Any, Any, Any], allowed: frozenset[str]) -> None:
    """Refuse a search parameter this server does not implement (400) rather than ignore it:
    a client must not take an unfiltered answer for a filtered one."""
    unknown = sorted(set(request.query_params) - allowed - ALWAYS)
    if unknown:
        raise BadSearch(
            f"search parameter {', '.join(unknown)} is not supported here; this server's "
            f"CapabilityStatement ({ROOT}/metadata) lists those it implements: "
            f"{', '.join(sorted(allowed))}"
        )
