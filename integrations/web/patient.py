"""The Patient page, /patients/{id}: what assistant.usecases.patient_view lets the caller see.
The title never names the patient; an unknown id is a plain 404 page, a refusal a plain 403."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from assistant.usecases.patient_view import patient_page
from clinic.db import Database
from integrations.web.render import page
from integrations.web.session import Visitor


@get("/patients/{patient_id:str}", sync_to_thread=True)
def patient(
    db: NamedDependency[Database], visitor: NamedDependency[Visitor], patient_id: FromPath[str]
) -> Template:
    view = patient_page(db, visitor.caller, patient_id)
    return page("patient.html", visitor, title="Patient — Rota", p=view, tz=db.facility_tz())


HANDLERS: list[Any] = [patient]
