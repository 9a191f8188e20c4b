"""Navigation in the browser: a page the reader has left never acts on the page they went to."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.e2e.browser import person
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


def test_a_dashboard_left_while_loading_leaves_the_next_address_alone(
    browser: Browser, live_server: LiveServer, artifacts: Path
) -> None:
    with person(browser, live_server.url, artifacts) as grace:
        grace.sign_in("grace")
        page = grace.page
        held: list[Route] = []

        def hold_dashboard(route: Route) -> None:
            if "query Dashboard" in (route.request.post_data or ""):
                held.append(route)
            else:
                route.continue_()

        page.route("**/graphql", hold_dashboard)
        page.goto(f"{live_server.url}/#/?status=ACTIVE")
        page.wait_for_function("() => document.querySelector('main .loading') !== null")
        assert len(held) == 1

        # The reader moves on before the dashboard's objectives arrive; then they arrive.
        page.goto(f"{live_server.url}/#/review")
        expect(page.get_by_test_id("cycle-phase")).to_have_text("Reviewing")
        with page.expect_response(lambda response: response.request == held[0].request):
            held[0].continue_()
        page.wait_for_load_state("networkidle")

        # The dashboard kept its filters in its own address, not in this one.
        assert page.url == f"{live_server.url}/#/review"
        page.reload()
        expect(page.get_by_test_id("cycle-phase")).to_have_text("Reviewing")
        assert not grace.console_errors
