"""The base of every /api controller: a bearer token, and errors as problem details, declared
once here so that the OpenAPI document says what each route can answer."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import ClassVar

from litestar import Controller
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)

from integrations.http.problems import PROBLEM, Problem, problem_responses

BEARER: list[SecurityRequirement] = [{"bearer": []}]
# How each caller proves who it is: the schemes the document declares (components).
SECURITY_SCHEMES = {
    "bearer": SecurityScheme(
        type="http", scheme="bearer", description="rota token create --staff ID"
    ),
    "slackSignature": SecurityScheme(
        type="apiKey",
        name="X-Slack-Signature",
        security_scheme_in="header",
        description="Slack's HMAC-SHA256 of the body and X-Slack-Request-Timestamp with "
        "SLACK_SIGNING_SECRET (checked by Bolt: 401 when bad or stale)",
    ),
    "twilioSignature": SecurityScheme(
        type="apiKey",
        name="X-Twilio-Signature",
        security_scheme_in="header",
        description="Twilio's HMAC-SHA1 of the public URL and form fields with "
        "TWILIO_AUTH_TOKEN (403 when bad)",
    ),
}
# Every /api route: malformed (400), no token (401), a role or token scope that may not (403), no
# such record (404), refused by a check or a rule (422), too many failed sign-ins from the client
# (429); a write may also find the time taken (409).
READ_ERRORS = (400, 401, 403, 404, 422, 429)
WRITE_ERRORS = (*READ_ERRORS, 409)


class ApiController(Controller):
    """Subclass this for a resource under /api: each route handler gets the bearer security
    requirement and the problem+json responses of READ_ERRORS (GET) or WRITE_ERRORS (the other
    methods); a handler's own `responses=` adds to them or overrides one."""

    security = BEARER
    read_errors: ClassVar[tuple[int, ...]] = READ_ERRORS
    write_errors: ClassVar[tuple[int, ...]] = WRITE_ERRORS
    # Another error format (a FHIR facade's OperationOutcome): its media type and model.
    error_media_type: ClassVar[str] = PROBLEM
    error_model: ClassVar[type] = Problem

    def get_route_handlers(self) -> list[BaseRouteHandler]:
        handlers = super().get_route_handlers()
        for handler in handlers:
            if isinstance(handler, HTTPRouteHandler):
                reads = handler.http_methods <= {"GET", "HEAD"}
                errors = problem_responses(
                    *(self.read_errors if reads else self.write_errors),
                    media_type=self.error_media_type,
                    model=self.error_model,
                )
                handler.responses = {**errors, **(handler.responses or {})}
        return handlers


SIGNED_MEANING = {
    200: "Received",
    401: "The signature is missing, bad or stale",
    403: "The signature is missing or bad",
    503: "Not configured on this server (its secret is not set)",
}


def webhook_operation(
    *, requests: tuple[str, ...], answers: dict[int, tuple[str, ...]]
) -> type[Operation]:
    """The OpenAPI operation of a route another system calls and signs (Slack, Twilio): it
    reads the raw body itself (the signature covers its exact bytes), so Litestar cannot infer
    its request body or its answers. `requests`: the media types it is sent (any fields);
    `answers`: status → the media types it answers (JSON: an object; others: text)."""

    def media(kind: str) -> OpenAPIMediaType:
        json = kind.endswith("json")
        form = kind == "application/x-www-form-urlencoded"
        schema = (
            Schema(type=OpenAPIType.OBJECT) if json or form else Schema(type=OpenAPIType.STRING)
        )
        return OpenAPIMediaType(schema=schema)

    @dataclass
    class WebhookOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(content={k: media(k) for k in requests}, required=True)
            self.responses = {
                str(status): OpenAPIResponse(
                    description=SIGNED_MEANING.get(status, HTTPStatus(status).phrase),
                    content={k: media(k) for k in kinds},
                )
                for status, kinds in answers.items()
            }

    return WebhookOperation
