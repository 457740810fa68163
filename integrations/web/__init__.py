"""The web door: server-rendered pages (Jinja2 + htmx) on the same use cases, roles and audit
as every other door. `web_handlers()` is what the Litestar app mounts. Pages' headers (CSP,
no-store, no framing) are set with every other response's: integrations/http/hardening.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from integrations.web import approvals, board, chat, dashboard, patient, signin
from integrations.web.errors import EXCEPTION_HANDLERS
from integrations.web.session import provide_visitor

HERE = Path(__file__).parent
TEMPLATE_CONFIG = TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)


def _pages() -> list[Any]:
    """Every page's handlers (a page module adds itself here)."""
    return [
        *signin.HANDLERS,
        *board.HANDLERS,
        *dashboard.HANDLERS,
        *approvals.HANDLERS,
        *patient.HANDLERS,
        *chat.HANDLERS,
    ]


def web_handlers() -> list[Any]:
    pages = Router(
        path="/",
        route_handlers=_pages(),
        dependencies={"visitor": Provide(provide_visitor)},
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
    static = create_static_files_router(
        path="/static/web", directories=[HERE / "static"], include_in_schema=False
    )
    return [pages, static]
