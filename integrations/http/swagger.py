"""Swagger UI at /schema/swagger, served from this server and started by a script file:
Litestar's page starts it with an inline script, which the CSP of every HTML page refuses."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import SwaggerRenderPlugin

STATIC = Path(__file__).parent / "static"
"""swagger-init.js, served beside the vendored Swagger UI (static/vendor) under /static/swagger."""


class SwaggerPage(SwaggerRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        spec = f"{request.app.openapi_config.path}/openapi.json"  # type: ignore[union-attr]
        title = escape(str(openapi_schema["info"]["title"]))
        return f"""<!DOCTYPE html><html lang="en">
<head>
  <title>{title}</title>
  {self.favicon}
  <meta charset="utf-8"/>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link href="{self.css_url}" rel="stylesheet">
  <script src="{self.js_url}"></script>
  <script src="{self.standalone_preset_js_url}"></script>
  <script src="/static/swagger/swagger-init.js"></script>
  {self.style}
</head>
<body><div id="swagger-container" data-spec="{escape(spec)}"></div></body>
</html>""".encode()

    def receive_router(self, router: Router) -> None:
        """No OAuth2 redirect page (it is an inline script, and the API takes bearer tokens)."""
