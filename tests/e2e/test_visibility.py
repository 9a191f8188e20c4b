"""Visibility in the browser: a TEAM objective never shows to a member of another team, anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser import PHONE, person
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

GROWTH_TEAM_ONLY = "Make self-serve onboarding the main way customers start"
PEOPLE_TEAM_ONLY = "Hire and keep the people we need"
HIDDEN = (GROWTH_TEAM_ONLY, PEOPLE_TEAM_ONLY)


def test_a_member_of_another_team_never_sees_a_team_objective(
    browser: Browser, live_server: LiveServer, artifacts: Path
) -> None:
    with person(browser, live_server.url, artifacts) as grace:
        grace.sign_in("grace")
        grace.open("/")
        link = grace.page.get_by_role("link", name=GROWTH_TEAM_ONLY)
        expect(link).to_be_visible()  # the owning team sees it: the check below can fail
        objective_path = (link.get_attribute("href") or "").removeprefix("#")
        assert objective_path.startswith("/objectives/")
        grace.open("/alignment")
        expect(grace.page.get_by_role("link", name=GROWTH_TEAM_ONLY)).to_be_visible()

    with person(browser, live_server.url, artifacts) as pete:
        pete.sign_in("pete")
        page = pete.page
        expect(page.get_by_test_id("viewer")).to_contain_text("Pete Platform")
        pete.open("/")
        cycle_ids = [
            value for value in page.locator("#cycle-select option").evaluate_all("els => els.map(e => e.value)")
        ]
        assert len(cycle_ids) >= 5
        for cycle_id in cycle_ids:
            for where in (f"/?cycle={cycle_id}", f"/alignment?cycle={cycle_id}", f"/review?cycle={cycle_id}"):
                pete.open(where)
                body = page.locator("main").inner_text()
                for title in HIDDEN:
                    assert title not in body, f"{title!r} shown on {where}"
        pete.open("/")
        expect(page.get_by_role("link", name="Make the arm controller rock solid")).to_be_visible()
        page.get_by_label("Search").fill("onboarding")
        expect(page.get_by_text("No objectives match")).to_be_visible()

        page.get_by_label("Search").fill("")
        with page.expect_download() as download:
            page.get_by_test_id("export-csv").click()
        exported = Path(download.value.path()).read_text(encoding="utf-8")
        assert "Make the arm controller rock solid" in exported
        assert not any(title in exported for title in HIDDEN)

        for where in ("/proposals?status=ALL", "/notifications", "/retrospectives"):
            pete.open(where)
            body = page.locator("main").inner_text()
            assert not any(title in body for title in HIDDEN), where

        # The direct link reads exactly like a missing objective.
        pete.open(objective_path)
        expect(page.get_by_role("heading", level=1)).to_have_text("Objective not found")
        assert GROWTH_TEAM_ONLY not in page.locator("main").inner_text()
        assert not pete.console_errors


def test_pages_at_laptop_and_phone_width(browser: Browser, live_server: LiveServer, artifacts: Path) -> None:
    with person(browser, live_server.url, artifacts) as cleo:
        cleo.sign_in("ceo")
        cleo.open("/alignment")
        expect(cleo.page.get_by_test_id("coverage")).to_be_visible()
        tree = cleo.page.locator("ul.tree")
        expect(tree.get_by_role("link", name="Become the default robot arm for small factories")).to_be_visible()
        # Collapsing a node hides its children; expanding shows them again.
        child = tree.get_by_role("link", name="Deliver a product experience that users love")
        expect(child).to_be_visible()
        tree.get_by_role("button", name="Collapse Become the default robot arm for small factories").click()
        expect(child).to_be_hidden()
        tree.get_by_role("button", name="Expand Become the default robot arm for small factories").click()
        expect(child).to_be_visible()
        cleo.screenshot("11-alignment")
        cleo.open("/notifications")
        expect(cleo.page.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
        cleo.screenshot("12-notifications")
        if cleo.page.get_by_test_id("unread-count").count():
            cleo.page.get_by_role("button", name="Mark all read").click()
            expect(cleo.page.get_by_test_id("unread-count")).to_have_count(0)
            expect(cleo.page.locator(".notification--unread")).to_have_count(0)
        assert not cleo.console_errors

    with person(browser, live_server.url, artifacts, viewport=PHONE) as gus:
        gus.sign_in("gus")
        gus.open("/")
        expect(gus.page.get_by_role("link", name=GROWTH_TEAM_ONLY)).to_be_visible()
        # Nothing wider than the phone: no sideways scrolling.
        assert gus.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        gus.screenshot("13-dashboard-phone")
        gus.page.get_by_role("link", name=GROWTH_TEAM_ONLY).click()
        expect(gus.page.get_by_role("heading", level=1, name=GROWTH_TEAM_ONLY)).to_be_visible()
        assert gus.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        gus.screenshot("14-objective-phone")
        assert not gus.console_errors
