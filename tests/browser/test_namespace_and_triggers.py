"""In real Chromium: an Admin sets a secret that is never shown back, refuses a bad key
without losing what was typed, and turns a schedule off and backfills it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from flows.models import Flow
from namespaces.models import Secret
from triggers.clock import clock_tick
from triggers.models import Backfill, TriggerState

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

SCHEDULED = (
    "id: nightly\nnamespace: browser\ntasks:\n"
    "  - id: report\n    type: io.kestra.plugin.core.log.Log\n    message: report\n"
    "triggers:\n  - id: every_hour\n    type: io.kestra.plugin.core.trigger.Schedule\n"
    "    cron: '0 * * * *'\n"
)


def test_an_admin_sets_a_secret_that_the_page_never_shows_again(page: Page) -> None:
    page.goto("/namespaces/browser/variables/")
    form = page.get_by_test_id("secret-form")
    form.get_by_label("Key").fill("bad key!")
    form.get_by_label("Value").fill("s3cr3t-value")
    form.get_by_role("button", name="Save secret").click()
    # Refused: the key the user typed stays, and the message says what is wrong.
    expect(page.get_by_test_id("secret-errors")).to_contain_text(
        "may only hold letters, digits and underscores"
    )
    expect(page.get_by_test_id("secret-form").get_by_label("Key")).to_have_value("bad key!")
    assert not Secret.objects.exists()

    form = page.get_by_test_id("secret-form")
    form.get_by_label("Key").fill("API_TOKEN")
    form.get_by_label("Value").fill("s3cr3t-value")
    form.get_by_role("button", name="Save secret").click()
    expect(page.get_by_role("button", name="Delete secret API_TOKEN")).to_be_visible()
    assert "s3cr3t-value" not in page.content()
    assert Secret.objects.get(namespace="browser", key="API_TOKEN").reveal() == "s3cr3t-value"


def test_an_editor_turns_a_schedule_off_and_backfills_a_day_from_the_flow_page(
    page: Page, alice: Any
) -> None:
    flow = Flow.save_source(SCHEDULED, author=alice)
    page.goto(flow.get_absolute_url())
    section = page.locator("#flow-triggers")
    switch = section.get_by_role("switch")
    expect(switch).to_have_attribute("aria-checked", "true")
    switch.click()
    expect(section.get_by_role("switch")).to_have_attribute("aria-checked", "false")
    assert TriggerState.objects.get(flow_id="nightly").disabled

    section.get_by_text("Backfill", exact=True).click()
    section.get_by_label("Start").fill("2024-03-01T00:00:00")
    section.get_by_label("End").fill("2024-03-01T02:00:00")
    section.get_by_role("button", name="Run one execution per date").click()
    expect(page.locator("#flow-triggers .backfill-progress")).to_have_text("0 of 3")
    clock_tick(Backfill.objects.get().created_at)  # the clock starts the executions
    expect(page.locator("#flow-triggers .backfill-progress")).to_have_text("3 of 3")
