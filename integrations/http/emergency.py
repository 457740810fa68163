"""Emergency access over HTTP: a reason to open a patient outside the caller's caseload, given
as `?reason=` or the `X-Rota-Reason` header (break the glass; assistant.break_glass decides)."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, QueryParameter

from assistant import break_glass
from assistant.break_glass import Emergency

DOOR = "http"
REASON = QueryParameter(
    name="reason",
    default=None,
    description=(
        "Emergency access: why you open a patient outside your caseload (at least two words; "
        "written to the audit log and reported to the clinical director)"
    ),
)
ReasonHeader = Annotated[
    str | None,
    HeaderParameter(name="X-Rota-Reason", description="The emergency reason, as a header"),
]


def emergency(reason: str | None, header: str | None, door: str = DOOR) -> Emergency | None:
    """The request's emergency reason (the query's wins), or None."""
    return break_glass.of(reason or header, door)
