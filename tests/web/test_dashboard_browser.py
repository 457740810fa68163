"""The director's dashboard in a real browser: charts drawn, their numbers one click away."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.browser import assert_accessible, screenshot
from tests.web.conftest import LiveServer

DIRECTOR = "s001"


def test_a_director_reads_a_chart_and_its_numbers(
    signed_in_page: Callable[[str], Any], live_server: LiveServer
) -> None:
    page = signed_in_page(DIRECTOR)
    page.goto(f"{live_server.url}/dashboard?weeks=4")
    assert page.title() == "Dashboard — Rota"
    chart = page.locator('figure[data-chart="attendance"]')
    chart.locator("canvas").first.wait_for()  # uPlot drew it
    assert page.locator("figure.chart canvas").count() >= 4

    card = page.locator('section:has(figure[data-chart="attendance"])')
    table = card.locator("#t-attendance")
    assert not table.is_visible()
    card.get_by_text("Show the numbers").click()
    assert table.is_visible()
    assert table.locator("caption").inner_text().startswith("Attendance rate")
    row = table.locator("tbody tr", has_text="2026-11-16")
    cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
    assert cells[0] == "2026-11-16" and cells[1].endswith("%") and cells[4] != "0"

    # The chart plots what the table says: uPlot's own series for that week.
    plotted = page.evaluate(
        """() => {
            const chart = document.querySelector('figure[data-chart="attendance"]').uplot;
            const at = chart.data[0].indexOf(Date.parse('2026-11-16T12:00:00Z') / 1000);
            return [chart.data[1][at], chart.data[2][at]];
        }"""
    )
    assert [cells[1], cells[2]] == [f"{v:.1f} %" for v in plotted]

    link = card.get_by_role("link", name="Download “Attendance and no-shows by week” as CSV")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "rota-attendance-4-weeks-2026-11-30.csv"

    page.get_by_role("link", name="8 weeks").click()
    page.wait_for_url("**/dashboard?weeks=8")
    assert page.locator("#t-clinicians tbody tr").count() == 8
    page.locator("figure.chart canvas").first.wait_for()
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    assert_accessible(page)  # every table and list shown

    page.goto(f"{live_server.url}/dashboard?weeks=4")
    page.locator('figure[data-chart="requirements"] canvas').first.wait_for()
    screenshot(page, "dashboard")
