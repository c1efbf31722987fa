"""A user resumes a paused run from its page, giving the Pause's ``onResume`` inputs, in
real Chromium: a bad value is refused with its reason and the run stays paused; good
values resume it and the tasks after read them."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from executions.lifecycle import execution_start
from flows.models import Flow
from tests.flows_helpers import messages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

SOURCE = """id: approval
namespace: browser
tasks:
  - id: approve
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: reason
        type: STRING
      - id: copies
        type: INT
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.approve.onResume.reason }} x{{ outputs.approve.onResume.copies }}"
"""


def test_resume_inputs_are_asked_checked_and_handed_to_the_next_tasks(
    page: Page, alice: Any
) -> None:
    execution = execution_start(flow=Flow.save_source(SOURCE, author=alice))
    page.goto(execution.get_absolute_url())
    expect(page.get_by_test_id("execution-state")).to_have_text("PAUSED")

    page.get_by_label("reason").fill("looks good")
    page.get_by_label("copies").fill("three")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("ul.messages")).to_contain_text("copies")
    expect(page.get_by_test_id("execution-state")).to_have_text("PAUSED")
    execution.refresh_from_db()
    assert execution.state == "PAUSED"

    page.get_by_label("reason").fill("looks good")
    page.get_by_label("copies").fill("3")
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_test_id("execution-state")).to_have_text("SUCCESS")
    assert "looks good x3" in messages(execution)
