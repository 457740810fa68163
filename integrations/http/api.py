"""The base of every /api controller: a bearer token, and errors as problem details, declared
once here so that the OpenAPI document says what each route can answer."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.openapi.spec import SecurityRequirement

from integrations.http.problems import problem_responses

BEARER: list[SecurityRequirement] = [{"bearer": []}]
# Every /api route: malformed (400), no token (401), a role that may not (403), no such record
# (404), refused by a check or a rule (422); a write may also find the time taken (409).
READ_ERRORS = (400, 401, 403, 404, 422)
WRITE_ERRORS = (*READ_ERRORS, 409)


class ApiController(Controller):
    """Subclass this for a resource under /api: each route handler gets the bearer security
    requirement and the problem+json responses of READ_ERRORS (GET) or WRITE_ERRORS (the other
    methods); a handler's own `responses=` adds to them or overrides one."""

    security = BEARER
    read_errors: ClassVar[tuple[int, ...]] = READ_ERRORS
    write_errors: ClassVar[tuple[int, ...]] = WRITE_ERRORS

    def get_route_handlers(self) -> list[BaseRouteHandler]:
        handlers = super().get_route_handlers()
        for handler in handlers:
            if isinstance(handler, HTTPRouteHandler):
                reads = handler.http_methods <= {"GET", "HEAD"}
                statuses = self.read_errors if reads else self.write_errors
                handler.responses = {**problem_responses(*statuses), **(handler.responses or {})}
        return handlers
