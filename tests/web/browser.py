"""Helpers for the web tests: a session as a link opens it, axe-core, screenshots.

from tests.web.browser import assert_accessible, screenshot, sign_in
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from assistant.usecases import web_sign_in
from clinic.db import Database

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("ROTA_SCREENSHOT_DIR", "build/screenshots"))
VIEWPORT = {"width": 1280, "height": 800}


def sign_in(db: Database, staff_id: str) -> tuple[str, str]:
    """A live session for a staff member, as a one-time link would open it: (cookie, csrf)."""
    cookie = web_sign_in.sign_in_with_link(db, web_sign_in.create_link(db, staff_id))
    visit = web_sign_in.visit(db, cookie)
    assert visit is not None
    return cookie, visit.csrf


def assert_accessible(page: Any) -> None:
    """axe-core on the page as it stands: no serious or critical WCAG 2.1 A/AA violation."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # through DevTools: the page's CSP does not apply
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }"""
    )
    assert not violations, json.dumps(violations, indent=1)


def screenshot(page: Any, name: str) -> Path:
    """The page at 1280×800, for people to look at (build/screenshots/NAME.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
