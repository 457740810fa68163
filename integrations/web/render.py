"""Pages and fragments: every template gets the signed-in person, the CSRF token and the nav."""

from __future__ import annotations

from typing import Any

from litestar.response import Template
from markupsafe import Markup, escape

from assistant import access
from integrations.web.session import CSRF_FIELD, Visitor

NAV = (  # (key, label, href, the action that makes the page useful to a role)
    ("board", "Board", "/", "view_schedule"),
    ("dashboard", "Dashboard", "/dashboard", "view_reports"),
    ("approvals", "Approvals", "/approvals", "approve_changes"),
)


def _common(visitor: Visitor) -> dict[str, Any]:
    token = visitor.csrf
    return {
        "visitor": visitor,
        "csrf": token,
        "csrf_field": lambda: Markup(  # nosec B704  # the only value in it is escaped
            f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">'
        ),
        "nav": [
            {"key": key, "label": label, "href": href}
            for key, label, href, action in NAV
            if access.may(visitor.caller, action)
        ],
    }


def page(
    template: str,
    visitor: Visitor,
    *,
    title: str,
    active: str = "",
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A whole page (the template extends base.html). `title` never names a patient."""
    return Template(
        template_name=template,
        context={**_common(visitor), "title": title, "active": active, **context},
        status_code=status_code,
    )


def fragment(
    template: str, visitor: Visitor, *, status_code: int = 200, **context: Any
) -> Template:
    """A piece of a page, for htmx to swap in."""
    return Template(
        template_name=template, context={**_common(visitor), **context}, status_code=status_code
    )
