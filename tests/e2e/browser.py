"""What a person does in the web app, as steps the tests read like a script."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

LAPTOP = {"width": 1360, "height": 900}
PHONE = {"width": 390, "height": 844}


class Person:
    """One signed-in browser: its own cookies, so two people never share a session."""

    def __init__(self, page: Page, base_url: str, artifacts: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.artifacts = artifacts
        self.console_errors: list[str] = []
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on("console", lambda message: self._console(message))

    def _console(self, message: Any) -> None:
        # The signed-out probe of /graphql answers 401 by design; Chromium logs every non-2xx load.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text)

    def sign_in(self, subject: str) -> None:
        page = self.page
        page.goto(self.base_url + "/")
        page.get_by_role("link", name="Sign in").click()
        # The OIDC provider's own authorization form: who is signing in.
        page.locator("input[name=sub]").fill(subject)
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(self.base_url + "/**")
        expect(page.get_by_test_id("viewer")).to_be_visible()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        expect(self.page.get_by_role("link", name="Sign in")).to_be_visible()

    def open(self, hash_path: str) -> None:
        self.page.goto(f"{self.base_url}/#{hash_path}")
        self.page.wait_for_load_state("networkidle")
        expect(self.page.locator("main .loading")).to_have_count(0)

    def screenshot(self, name: str) -> None:
        self.page.wait_for_load_state("networkidle")
        # At the top, so the sticky header is drawn where it belongs in a full-page capture.
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(self.artifacts / f"{name}.png"), full_page=True)


@contextmanager
def person(browser: Browser, base_url: str, artifacts: Path, viewport: dict[str, int] = LAPTOP) -> Iterator[Person]:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    try:
        yield Person(context.new_page(), base_url, artifacts)
    finally:
        context.close()
