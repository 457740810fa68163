"""The Litestar application: `create_app(db)` wires the routes, auth, errors and OpenAPI."""

from __future__ import annotations

import gc

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.di import NamedDependency, Provide
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components
from litestar.static_files import create_static_files_router
from litestar.types import Message, Scope

from assistant.authentication import Throttle
from assistant.dialogue import Dialogue
from assistant.parse import intents
from assistant.tenancy import Facilities
from clinic.db import Database, open_database
from integrations.http.api import SECURITY_SCHEMES
from integrations.http.appointments import AppointmentController
from integrations.http.attendance import AttendanceController
from integrations.http.auth import provide_caller
from integrations.http.capacity import CapacityController
from integrations.http.chat import ChatController
from integrations.http.fhir import BulkSettings, fhir_aware, fhir_router
from integrations.http.groups import GroupController
from integrations.http.hardening import Hardening, security_headers
from integrations.http.ical import calendar_feed
from integrations.http.observe import observed
from integrations.http.operations import health, metrics_route, metrics_token, ready
from integrations.http.patients import PatientController
from integrations.http.problems import EXCEPTION_HANDLERS
from integrations.http.proposals import ProposalController
from integrations.http.rooms import RoomController
from integrations.http.series import SeriesController
from integrations.http.sms import ReplyController, sms_inbound
from integrations.http.staff import StaffController
from integrations.http.swagger import STATIC as SWAGGER_INIT_DIR
from integrations.http.swagger import SwaggerPage
from integrations.http.tenants import Tenants, provide_db, provide_dialogue
from integrations.http.waitlist import WaitlistController
from integrations.log_policy import JsonLines, configure_logs, log_format, protect_logs
from integrations.slack.route import slack_events_route
from integrations.web import TEMPLATE_CONFIG, web_handlers

SWAGGER_DIR = SWAGGER_INIT_DIR / "vendor"  # Swagger UI 5 (VENDORED.md): renders OpenAPI 3.1


async def allow_every_method(message: Message, scope: Scope) -> None:
    """Litestar 2.25's automatic OPTIONS answer lists only the methods of the first handler on
    a path (registering a second one rebuilds the route, but the OPTIONS handler keeps the first
    route's methods); the `Allow` header must list every method the path serves."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    handler = scope.get("route_handler")
    if handler is None or handler.http_methods != {"OPTIONS"}:
        return
    served = scope["litestar_app"].route_handler_method_map
    methods = {m for path in handler.paths for m in served.get(path, {}) if m.isupper()}
    if methods:
        MutableScopeHeaders.from_message(message)["Allow"] = ", ".join(sorted(methods))


def create_serving_app() -> Litestar:
    """The app of one `rota serve --workers N` process (uvicorn's factory)."""
    return create_app(settle=True)


def settle_memory() -> None:
    """What is imported by now lives as long as the process: keep it out of the garbage
    collector's full passes (about 300,000 objects from spaCy, Presidio, LangChain...; each full
    pass over them cost 150-250 ms of a request, the board's p95 on demo m: bench/web.py).
    The intent model is trained first (about 2 s), so no one's first message waits for it."""
    intents.model()
    gc.collect()
    gc.freeze()


def create_app(
    db: NamedDependency[Database] | None = None,
    *,
    dialogue: Dialogue | None = None,
    debug: bool = False,
    fhir_bulk: BulkSettings | None = None,
    hardening: Hardening | None = None,
    settle: bool = False,
    throttle: Throttle | None = None,
) -> Litestar:
    """The app; `settle` (a server process, never tests: frozen objects are never freed)
    freezes what is imported out of the garbage collector once it has started; `hardening`
    (body limit, CORS origins) defaults to the environment's."""
    database = db or open_database()
    limits = hardening or Hardening.from_env()
    conversation = dialogue or Dialogue(database)
    tenants = Tenants(Facilities(database), conversation)
    brakes = throttle or Throttle()  # failed sign-ins, per process (assistant.authentication)
    # Request bodies may carry patient details: never log them, and keep library loggers quiet.
    protect_logs()
    openapi = OpenAPIConfig(
        title="Rota",
        version="1",
        description="Scheduling assistant for addiction-treatment facilities.",
        path="/schema",
        render_plugins=[
            SwaggerPage(
                js_url="/static/swagger/swagger-ui-bundle.js",
                css_url="/static/swagger/swagger-ui.css",
                standalone_preset_js_url="/static/swagger/swagger-ui-standalone-preset.js",
                favicon="<link rel='icon' href='data:,'>",  # the default points at a CDN
            )
        ],
        components=Components(security_schemes=SECURITY_SCHEMES),
    )
    app = Litestar(
        route_handlers=[
            health,
            ready,
            metrics_route(metrics_token()),
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
            fhir_router(fhir_bulk),
            calendar_feed,
            slack_events_route(database, conversation),
            create_static_files_router(
                path="/static/swagger",
                directories=[SWAGGER_INIT_DIR, SWAGGER_DIR],
                include_in_schema=False,
            ),
            *web_handlers(),
        ],
        template_config=TEMPLATE_CONFIG,
        dependencies={
            "tenants": Provide(lambda: tenants, use_cache=True, sync_to_thread=False),
            "db": Provide(provide_db, sync_to_thread=True),
            "caller": Provide(provide_caller, sync_to_thread=True),
            "throttle": Provide(lambda: brakes, use_cache=True, sync_to_thread=False),
            "dialogue": Provide(provide_dialogue, sync_to_thread=False),
        },
        exception_handlers=fhir_aware(EXCEPTION_HANDLERS),  # OperationOutcome under /fhir/
        before_send=[allow_every_method, security_headers],
        request_max_body_size=limits.max_body_bytes,
        cors_config=limits.cors(),
        # Litestar configures logging as the app starts: pin the noisy libraries after it.
        on_startup=[protect_logs, *([settle_memory] if settle else [])],
        openapi_config=openapi,
        logging_config=logging_config(),
        debug=debug,
    )
    configure_logs()  # ROTA_LOG_FORMAT=json: also the lines logged before Litestar's own
    return observed(app)  # request ids, latency, one log line per request


def logging_config() -> LoggingConfig:
    """Litestar's logging (it configures the root logger as the app is built): its standard
    text, or one JSON object a line with ROTA_LOG_FORMAT=json."""
    if log_format() == "json":
        return LoggingConfig(formatters={"standard": {"()": JsonLines}})
    return LoggingConfig()
