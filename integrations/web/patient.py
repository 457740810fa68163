"""The Patient page, /patients/{id}: what assistant.usecases.patient_view lets the caller see.
The title never names the patient; an unknown id is a plain 404 page, a refusal a plain 403 —
or, for a clinician who may break the glass, a 403 page asking for an emergency reason, whose
form opens the patient (POST, the reason logged: assistant.break_glass)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from assistant import access, break_glass
from assistant.usecases.patient_view import patient_page
from clinic.db import Database
from clinic.errors import PermissionDenied
from integrations.web.render import page
from integrations.web.session import Visitor

DOOR = "web"
TITLE = "Patient — Rota"


@dataclass
class ReasonForm:
    reason: str = ""


@get("/patients/{patient_id:str}", sync_to_thread=True)
def patient(
    db: NamedDependency[Database], visitor: NamedDependency[Visitor], patient_id: FromPath[str]
) -> Template:
    try:
        view = patient_page(db, visitor.caller, patient_id)
    except PermissionDenied as refused:
        if not access.may(visitor.caller, break_glass.ACTION):
            raise
        return page(
            "patient_break_glass.html",
            visitor,
            title=TITLE,
            status_code=403,
            refusal=str(refused),
            patient_id=patient_id,
            min_chars=break_glass.min_reason_chars(),
        )
    return page("patient.html", visitor, title=TITLE, p=view, tz=db.facility_tz())


@post("/patients/{patient_id:str}", sync_to_thread=True, status_code=200)
def open_in_emergency(
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    patient_id: FromPath[str],
    data: Annotated[ReasonForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """The page, opened with the reason given (an empty or one-word reason: a plain 403)."""
    emergency = break_glass.of(data.reason, DOOR) or break_glass.Emergency(None, DOOR)
    view = patient_page(db, visitor.caller, patient_id, emergency=emergency)
    return page("patient.html", visitor, title=TITLE, p=view, tz=db.facility_tz())


HANDLERS: list[Any] = [patient, open_in_emergency]
