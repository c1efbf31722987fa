"""In real Chromium, the page chrome: times in the reader's zone, error pages with ways
back, dark mode, copy buttons and keyboard shortcuts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from flows.models import Flow
from tests.browser.conftest import VIEWPORT
from tests.executions.test_log_page import a_run
from tests.personas import PASSWORD
from tests.triggers.helpers import T0
from triggers.clock import clock_tick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS_AT_NINE = (
    "id: morning\nnamespace: browser\ntasks:\n"
    "  - id: report\n    type: io.kestra.plugin.core.log.Log\n    message: report\n"
    "triggers:\n  - id: daily\n    type: io.kestra.plugin.core.trigger.Schedule\n"
    "    cron: '0 9 * * *'\n    timezone: Europe/Paris\n"
)


@pytest.fixture
def make_page(browser: Any, server_url: str, alice: Any) -> Iterator[Any]:
    """Opens a new browser profile with the given options, alice logged in through the page."""
    contexts: list[Any] = []

    def make(**options: Any) -> Page:
        context = browser.new_context(base_url=server_url, viewport=VIEWPORT, **options)
        contexts.append(context)
        page: Page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Username").fill(alice.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("header.top")).to_contain_text(alice.username)
        return page

    yield make
    for context in contexts:
        context.close()


def armed_paris_schedule(alice: Any) -> Flow:
    flow = Flow.save_source(PARIS_AT_NINE, author=alice)
    clock_tick(T0)  # 2030-01-01 10:05 UTC: next slot 2030-01-02 09:00 in Paris, 08:00 UTC
    return flow


def next_date(page: Page) -> Any:
    return page.locator('tr[data-trigger="daily"] td').nth(3)


# Time zones


def test_times_show_in_the_browser_s_zone_by_default(make_page: Any, alice: Any) -> None:
    flow = armed_paris_schedule(alice)
    page = make_page(timezone_id="Europe/Paris")
    page.goto(flow.get_absolute_url())
    expect(next_date(page)).to_have_text("2030-01-02 09:00:00 CET")
    expect(page.locator("body")).to_have_attribute("data-time-zone", "Europe/Paris")

    tokyo = make_page(timezone_id="America/New_York")
    tokyo.goto(flow.get_absolute_url())
    expect(next_date(tokyo)).to_have_text("2030-01-02 03:00:00 EST")


def test_the_very_first_page_is_redrawn_in_the_browser_s_zone_without_reloading(
    browser: Any, server_url: str, alice: Any
) -> None:
    flow = armed_paris_schedule(alice)
    client = Client()
    client.force_login(alice)  # a session, but no page seen yet: no time zone cookie
    context = browser.new_context(base_url=server_url, viewport=VIEWPORT, timezone_id="Asia/Tokyo")
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server_url}]
    )
    page = context.new_page()
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))
    response = page.goto(flow.get_absolute_url())
    assert response is not None and 'data-time-zone="UTC"' in response.text()
    expect(next_date(page)).to_have_text("2030-01-02 17:00:00 GMT+9")
    assert next_date(page).locator("time").get_attribute("title") == "Asia/Tokyo"
    page.wait_for_timeout(500)
    assert len(loads) == 1, loads
    page.reload()  # the cookie is set now: the server draws the zone itself, named by it
    expect(next_date(page)).to_have_text("2030-01-02 17:00:00 JST")
    context.close()


def test_times_show_in_the_zone_chosen_on_the_preferences_page(make_page: Any, alice: Any) -> None:
    flow = armed_paris_schedule(alice)
    page = make_page(timezone_id="Europe/Paris")
    page.get_by_role("link", name="Preferences").click()
    expect(page.get_by_label("Time zone")).to_have_value("")
    expect(page.get_by_label("Time zone").locator("option").first).to_have_text(
        "Browser default (Europe/Paris)"
    )
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_contain_text("Preferences saved.")

    page.goto(flow.get_absolute_url())
    expect(next_date(page)).to_have_text("2030-01-02 17:00:00 JST")
    execution = a_run(lines=0)
    page.goto(f"/executions/{execution.pk}/")
    expect(page.locator("main time").first).to_contain_text("JST")


# No dead ends


def test_a_404_page_has_navigation_that_works(page: Page) -> None:
    response = page.goto("/flows/nowhere/at-all/extra/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.locator("header.top nav").get_by_role("link", name="Flows")).to_be_visible()
    page.get_by_role("navigation", name="Ways back").get_by_role("link", name="Executions").click()
    page.wait_for_url("**/executions/")
    page.go_back()
    page.get_by_role("navigation", name="Ways back").get_by_role("link", name="Flows").click()
    page.wait_for_url("**/flows/")


def body_background(page: Page) -> tuple[int, ...]:
    colour: str = page.evaluate("getComputedStyle(document.body).backgroundColor")
    return tuple(int(part) for part in colour[colour.index("(") + 1 : -1].split(",")[:3])


def is_dark(rgb: tuple[int, ...]) -> bool:
    return sum(rgb) / 3 < 60


def choose_theme(page: Page, name: str) -> None:
    page.goto("/preferences/")
    page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_contain_text("Preferences saved.")


def test_dark_mode_follows_the_system_unless_the_preference_says_otherwise(
    make_page: Any,
) -> None:
    dark = make_page(color_scheme="dark")
    dark.goto("/namespaces/")
    assert is_dark(body_background(dark))
    light = make_page(color_scheme="light")
    light.goto("/namespaces/")
    assert not is_dark(body_background(light)) and body_background(light) == (248, 249, 251)

    choose_theme(light, "Dark")
    light.goto("/namespaces/")
    assert is_dark(body_background(light))
    choose_theme(dark, "Light")
    dark.goto("/namespaces/")
    assert not is_dark(body_background(dark))
    choose_theme(dark, "System")
    assert is_dark(body_background(dark))


def test_a_copy_button_copies_the_new_token(make_page: Any) -> None:
    page = make_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto("/tokens/")
    page.get_by_label("Name").fill("CI deploys")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("New token").input_value()
    assert len(token) > 20
    button = page.get_by_test_id("new-token").locator("button.copy")  # its name changes
    button.click()
    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    expect(button).to_have_text("Copy")


def test_a_copy_button_copies_outside_a_secure_context_too(make_page: Any, alice: Any) -> None:
    flow = armed_paris_schedule(alice)
    page = make_page(permissions=["clipboard-read", "clipboard-write"])
    # As over plain http on a server's name: no navigator.clipboard for the page.
    page.add_init_script("Object.defineProperty(window, 'isSecureContext', {get: () => false})")
    page.goto(flow.get_absolute_url())
    button = page.locator("h1 button.copy").first
    expect(button).to_have_text("Copy id")
    button.click()
    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "browser.morning"


def test_question_mark_lists_the_shortcuts_and_slash_focuses_the_search(page: Page) -> None:
    execution = a_run(lines=0)
    page.goto(f"/executions/{execution.pk}/")
    search = page.get_by_label("Search the logs")
    expect(search).to_be_visible()

    page.keyboard.press("/")
    expect(search).to_be_focused()
    page.keyboard.type("?g")  # typed into the search box: no shortcut fires
    expect(search).to_have_value("?g")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_have_count(0)

    page.keyboard.press("Escape")
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Go to the executions")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    page.keyboard.press("g")
    page.keyboard.press("f")
    page.wait_for_url("**/flows/")


def test_r_opens_the_run_form_on_a_flow_page(page: Page, alice: Any) -> None:
    flow = Flow.save_source(
        "id: asks\nnamespace: browser\ninputs:\n  - id: who\n    type: STRING\n"
        "tasks:\n  - id: hi\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n",
        author=alice,
    )
    page.goto(flow.get_absolute_url())
    expect(page.locator(".cm-editor")).to_be_visible()
    page.keyboard.press("r")
    expect(page.locator("#run-dialog")).to_be_visible()
    expect(page.locator("#run-dialog").get_by_label("who")).to_be_visible()
