"""The Litestar application: `create_app(db)` wires the routes, auth, errors and OpenAPI."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from litestar import Litestar, get
from litestar.di import NamedDependency, Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from assistant.dialogue import Dialogue
from assistant.usecases import records
from clinic.db import Database, open_database
from integrations.http.appointments import AppointmentController
from integrations.http.attendance import AttendanceController
from integrations.http.auth import provide_caller
from integrations.http.capacity import CapacityController
from integrations.http.chat import ChatController
from integrations.http.groups import GroupController
from integrations.http.ical import calendar_feed
from integrations.http.patients import PatientController
from integrations.http.problems import EXCEPTION_HANDLERS
from integrations.http.proposals import ProposalController
from integrations.http.rooms import RoomController
from integrations.http.series import SeriesController
from integrations.http.sms import ReplyController, sms_inbound
from integrations.http.staff import StaffController
from integrations.http.waitlist import WaitlistController
from integrations.slack.route import slack_events_route

SWAGGER_DIR = next(Path(swagger_ui_bundle.__file__).parent.glob("vendor/swagger-ui-*"))


@get("/health", sync_to_thread=True, include_in_schema=True, tags=["operations"])
def health(db: NamedDependency[Database]) -> dict[str, Any]:
    """Liveness and database reachability (no authentication)."""
    return {"status": "ok", "database": records.ping(db)}


def create_app(
    db: NamedDependency[Database] | None = None,
    *,
    dialogue: Dialogue | None = None,
    debug: bool = False,
) -> Litestar:
    database = db or open_database()
    conversation = dialogue or Dialogue(database)
    # Request bodies may carry patient details: never log them, and keep library loggers quiet.
    logging.getLogger("slack_bolt").setLevel(logging.WARNING)
    openapi = OpenAPIConfig(
        title="Rota",
        version="1",
        description="Scheduling assistant for addiction-treatment facilities.",
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                js_url="/static/swagger/swagger-ui-bundle.js",
                css_url="/static/swagger/swagger-ui.css",
                standalone_preset_js_url="/static/swagger/swagger-ui-standalone-preset.js",
                favicon="<link rel='icon' href='data:,'>",  # the default points at a CDN
            )
        ],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http", scheme="bearer", description="rota token create --staff ID"
                ),
            }
        ),
        security=[{"bearer": []}],
    )
    return Litestar(
        route_handlers=[
            health,
            AppointmentController,
            PatientController,
            AttendanceController,
            ChatController,
            StaffController,
            GroupController,
            RoomController,
            ProposalController,
            CapacityController,
            SeriesController,
            ReplyController,
            WaitlistController,
            sms_inbound,
            calendar_feed,
            slack_events_route(database, conversation),
            create_static_files_router(
                path="/static/swagger", directories=[SWAGGER_DIR], include_in_schema=False
            ),
        ],
        dependencies={
            "db": Provide(lambda: database, use_cache=True, sync_to_thread=False),
            "caller": Provide(provide_caller, sync_to_thread=True),
            "dialogue": Provide(lambda: conversation, use_cache=True, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi,
        debug=debug,
    )
