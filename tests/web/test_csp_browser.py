"""The Content-Security-Policy in a real browser: no page refuses its own scripts or styles
(every HTML page gets the same policy: integrations/http/hardening.py), and an inline script
slipped into a page would be refused."""

from __future__ import annotations

from typing import Any

# Injected through DevTools (not subject to the page's CSP): records every refusal.
WATCH = """
window.__refused = [];
document.addEventListener('securitypolicyviolation', e => window.__refused.push(
  e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


def _watched(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context()
    context.add_init_script(WATCH)
    return context, context.new_page()


def test_swagger_ui_starts_under_the_policy(browser: Any, live_server: Any) -> None:
    context, page = _watched(browser)
    try:
        page.goto(f"{live_server.url}/schema/swagger")
        page.locator(".swagger-ui").first.wait_for()  # swagger-init.js ran: the UI mounted
        assert page.evaluate("window.ui !== undefined")
        # It rendered Litestar's OpenAPI 3.1 document (Swagger UI 4 said it could not).
        page.locator(".opblock-summary-path", has_text="/api/appointments").first.wait_for()
        assert "Unable to render this definition" not in page.content()
        assert page.evaluate("window.__refused") == []
    finally:
        context.close()


def test_the_board_runs_with_nothing_refused_and_an_inline_script_is(
    signed_in_page: Any, live_server: Any
) -> None:
    page = signed_in_page("s001")
    page.context.add_init_script(WATCH)
    page.goto(f"{live_server.url}/board")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__refused") == []
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"
    )
    page.wait_for_function("window.__refused.length > 0")
    assert page.evaluate("window.__ran === undefined")
    assert page.evaluate("window.__refused")[0].startswith("script-src")
