"""Walking the quarter in a real browser: draft, negotiate, check in, change through proposals, score."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import Person, person
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

GROWTH_OBJECTIVE = "Make self-serve onboarding the main way customers start"
SIGNUPS_KR = "Increase weekly self-serve signups from 40 to 120"


def choose_cycle(page: Page, phase: str) -> str:
    """Picks the cycle in `phase` from the header's cycle picker; returns its id."""
    option = page.locator("#cycle-select option", has_text=phase).first
    cycle_id = option.get_attribute("value")
    assert cycle_id
    page.locator("#cycle-select").select_option(cycle_id)
    page.wait_for_load_state("networkidle")
    return cycle_id


def open_growth_objective(who: Person) -> None:
    who.open("/")
    who.page.get_by_role("link", name=GROWTH_OBJECTIVE).click()
    expect(who.page.get_by_role("heading", level=1, name=GROWTH_OBJECTIVE)).to_be_visible()


def test_lead_drafts_and_submits_an_objective_and_an_exec_approves_it(
    browser: Browser, live_server: LiveServer, artifacts: Path
) -> None:
    with person(browser, live_server.url, artifacts) as grace:
        grace.page.goto(live_server.url + "/")
        expect(grace.page.get_by_role("link", name="Sign in")).to_be_visible()
        grace.screenshot("01-sign-in")
        grace.sign_in("grace")
        expect(grace.page.get_by_test_id("viewer")).to_contain_text("Grace Growth")
        expect(grace.page.get_by_test_id("viewer-role")).to_have_text("MEMBER")
        grace.screenshot("02-dashboard")

        choose_cycle(grace.page, "Negotiating")
        grace.page.get_by_role("link", name="New objective").click()
        page = grace.page
        expect(page.get_by_role("heading", level=1, name="New objective")).to_be_visible()
        page.get_by_label("Objective", exact=True).fill("Make activation effortless for new teams")
        page.get_by_label("Why it matters").fill("Teams that activate in week one stay.")
        first = page.locator("fieldset.kr-edit").nth(0)
        first.get_by_label("Title", exact=True).fill("Raise week-one activation from 30% to 50%")
        first.get_by_label("Metric", exact=True).fill("activation")
        first.get_by_label("Unit", exact=True).fill("%")
        first.get_by_label("Start", exact=True).fill("30")
        first.get_by_label("Target", exact=True).fill("50")
        second = page.locator("fieldset.kr-edit").nth(1)
        second.get_by_label("Title", exact=True).fill("Cut time to first robot program from 5 days to 1 day")
        second.get_by_label("Metric", exact=True).fill("time to first program")
        second.get_by_label("Unit", exact=True).fill("days")
        second.get_by_label("Start", exact=True).fill("5")
        second.get_by_label("Target", exact=True).fill("1")
        second.get_by_label("Direction", exact=True).select_option("DECREASE")
        # The coach (lintObjective) advises beside the draft while it is written.
        expect(page.locator(".coach").get_by_test_id(re.compile("^lint"))).to_be_visible()
        # A refusal from the server is shown in words beside the field that caused it.
        title = page.get_by_label("Objective", exact=True)
        title.fill("x" * 301)
        page.get_by_role("button", name="Create draft").click()
        expect(page.locator(".field[data-field=title] .field-error")).to_have_text(
            "Keep the title under 300 characters."
        )
        expect(title).to_have_attribute("aria-invalid", "true")
        title.fill("Make activation effortless for new teams")
        grace.screenshot("03-draft-editor")
        page.get_by_role("button", name="Create draft").click()

        expect(page.get_by_role("heading", level=1, name="Make activation effortless for new teams")).to_be_visible()
        expect(page.locator(".hero .status")).to_have_text("Draft")
        draft_url = page.url
        # Drafts are edited in place: add a third key result.
        page.get_by_role("link", name="Edit draft").click()
        expect(page.get_by_role("heading", level=1, name="Edit draft")).to_be_visible()
        page.get_by_role("button", name="+ Add key result").click()
        third = page.locator("fieldset.kr-edit").nth(2)
        third.get_by_label("Title", exact=True).fill("Keep support tickets per new team under 2")
        third.get_by_label("Start", exact=True).fill("2")
        third.get_by_label("Target", exact=True).fill("2")
        third.get_by_label("Direction", exact=True).select_option("DECREASE")
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_role("heading", name="Key results (3)")).to_be_visible()
        page.get_by_role("button", name="Submit for review").click()
        expect(page.locator(".hero .status")).to_have_text("In review")
        # Buttons come from availableTransitions: the author cannot approve their own submission.
        expect(page.get_by_role("button", name="Approve")).to_have_count(0)
        assert not grace.console_errors
        grace.sign_out()

    with person(browser, live_server.url, artifacts) as pat:
        pat.sign_in("cpo")
        expect(pat.page.get_by_test_id("viewer-role")).to_have_text("EXEC")
        pat.page.goto(draft_url)
        # Negotiation: the exec counter-proposes a lower target; the draft goes back to its author.
        pat.page.get_by_role("link", name="Counter-propose").click()
        pat.page.get_by_label("Rationale").fill("Half of that is already ambitious.")
        pat.page.locator("fieldset.kr-edit").nth(0).get_by_label(re.compile("^Target")).fill("45")
        pat.screenshot("04-counter-proposal")
        pat.page.get_by_role("button", name="Send counter-proposal").click()
        expect(pat.page.locator(".hero .status")).to_have_text("Draft")
        pat.sign_out()

    with person(browser, live_server.url, artifacts) as grace:
        grace.sign_in("grace")
        grace.page.goto(draft_url)
        page = grace.page
        expect(page.locator(".comments")).to_contain_text("target 50 → 45")
        page.get_by_role("link", name="Edit draft").click()
        page.locator("fieldset.kr-edit").nth(0).get_by_label("Target", exact=True).fill("45")
        page.get_by_role("button", name="Save draft").click()
        expect(page.locator("article.kr").first.get_by_test_id("kr-target")).to_have_text("45%")
        page.get_by_role("button", name="Submit for review").click()
        expect(page.locator(".hero .status")).to_have_text("In review")
        grace.sign_out()

    with person(browser, live_server.url, artifacts) as pat:
        pat.sign_in("cpo")
        pat.page.goto(draft_url)
        expect(
            pat.page.get_by_role("heading", level=1, name="Make activation effortless for new teams")
        ).to_be_visible()
        pat.page.get_by_role("button", name="Approve").click()
        expect(pat.page.locator(".hero .status")).to_have_text("Approved")
        pat.screenshot("05-objective-approved")
        assert not pat.console_errors


def test_a_check_in_moves_the_bar_and_the_chart_without_a_reload(
    browser: Browser, live_server: LiveServer, artifacts: Path
) -> None:
    with person(browser, live_server.url, artifacts) as grace:
        grace.sign_in("grace")
        open_growth_objective(grace)
        page = grace.page
        card = page.locator("article.kr", has_text=SIGNUPS_KR)
        progress_before = card.get_by_test_id("kr-progress").inner_text()
        points_before = int(card.locator("svg.chart").get_attribute("data-points") or "0")
        page.evaluate("window.__sameDocument = true")

        card.get_by_label("New value").fill("118")
        card.get_by_label("Note").fill("Self-serve launch week")
        card.get_by_role("button", name="Record check-in").click()

        card = page.locator("article.kr", has_text=SIGNUPS_KR)
        expect(card.get_by_test_id("kr-current")).to_have_text("118")
        expect(card.get_by_test_id("kr-progress")).not_to_have_text(progress_before)
        expect(card.get_by_test_id("kr-progress")).to_have_text("98%")
        expect(card.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "98")
        expect(card.locator("svg.chart")).to_have_attribute("data-points", str(points_before + 1))
        assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
        grace.screenshot("06-objective-after-check-in")

        # A bad value is refused next to the input, in words.
        card.get_by_label("New value").fill("")
        card.get_by_role("button", name="Record check-in").click()
        expect(card.locator(".field-error").first).to_have_text("Enter the measured value as a number.")
        assert not grace.console_errors


def test_a_proposal_is_approved_from_the_inbox(browser: Browser, live_server: LiveServer, artifacts: Path) -> None:
    with person(browser, live_server.url, artifacts) as grace:
        grace.sign_in("grace")
        open_growth_objective(grace)
        grace.page.get_by_role("link", name="Propose a change").click()
        page = grace.page
        page.get_by_label("Rationale").fill("Signups grow faster than planned; aim higher.")
        page.locator("fieldset.kr-edit", has_text="Key result 1").get_by_label(re.compile("^Target")).fill("150")
        grace.screenshot("07-proposal-form")
        page.get_by_role("button", name="Send proposal").click()
        expect(page.get_by_role("heading", level=1, name=GROWTH_OBJECTIVE)).to_be_visible()
        assert not grace.console_errors

    with person(browser, live_server.url, artifacts) as pat:
        pat.sign_in("cpo")
        pat.open("/proposals")
        card = pat.page.locator("article.proposal", has_text="aim higher")
        expect(card.locator(".diff__before")).to_contain_text(["120"])
        expect(card.locator(".diff__after")).to_contain_text(["150"])
        pat.screenshot("08-proposals-inbox")
        card.get_by_role("button", name="Approve").click()
        expect(pat.page.locator("article.proposal", has_text="aim higher")).to_have_count(0)
        pat.open("/proposals?status=ALL")
        expect(pat.page.locator("article.proposal", has_text="aim higher").locator(".status")).to_have_text("Applied")
        open_growth_objective(pat)
        card = pat.page.locator("article.kr").first
        expect(card.get_by_test_id("kr-target")).to_have_text("150")
        assert not pat.console_errors


def test_scores_are_saved_and_the_retrospective_published(
    browser: Browser, live_server: LiveServer, artifacts: Path
) -> None:
    with person(browser, live_server.url, artifacts) as grace:
        grace.sign_in("grace")
        grace.open("/review")
        page = grace.page
        expect(page.get_by_test_id("cycle-phase")).to_have_text("Reviewing")
        growth = page.locator("section.review-team", has_text="Growth")
        forms = growth.locator("form.score-form")
        count = forms.count()
        assert count >= 2
        for index in range(count):
            form = growth.locator("form.score-form").nth(index)
            form.get_by_label("Score").fill("0.8")
            expect(form.locator("output")).to_have_text("0.80")
            form.get_by_label("Reflection").fill("Onboarding experiments paid off.")
            form.get_by_role("button", name=re.compile("score")).click()
            expect(growth.locator("form.score-form").nth(index)).to_contain_text("Scored 0.80")
        grace.screenshot("09-review")
        growth.get_by_role("button", name="Publish Growth retrospective").click()
        expect(growth.get_by_text("Retrospective published")).to_be_visible()

        page.get_by_role("link", name="Retrospectives").first.click()
        choose_cycle(page, "Reviewing")
        row = page.locator("tr", has_text="Growth")
        expect(row).to_contain_text("Published")
        expect(row).to_contain_text("0.80")
        grace.screenshot("10-retrospectives")
        assert not grace.console_errors


def test_an_admin_fires_the_cycle_transitions_offered(
    browser: Browser, live_server: LiveServer, artifacts: Path
) -> None:
    with person(browser, live_server.url, artifacts) as ada:
        ada.sign_in("admin")
        ada.open("/")
        choose_cycle(ada.page, "Planning")
        page = ada.page
        expect(page.get_by_test_id("cycle-phase")).to_have_text("Planning")
        page.get_by_role("button", name="Open negotiation").click()
        expect(page.get_by_test_id("cycle-phase")).to_have_text("Negotiating")
        # Activating with drafts left is refused in words; forcing needs a reason.
        page.get_by_role("button", name="Activate cycle").click()
        expect(page.locator(".phase [role=alert]")).not_to_be_empty()
        ada.screenshot("15-cycle-transition-refused")
        assert not ada.console_errors
