"""In real Chromium: the flows list finds one flow among 200 and sorts by a clicked
header; the logs page finds a line of a real run; the audit log links to an execution."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from executions.lifecycle import execution_start
from executions.models import Execution, State
from flows.models import Flow
from tests.browser.conftest import screenshot_when_asked
from tests.conftest import wait_until
from tests.personas import PASSWORD
from triggers.clock import clock_tick

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

NAMESPACES = ("dev", "company.sales", "company.data.etl", "browser")
TASKS = "tasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: '{msg}'\n"


def _flow(flow_id: str, namespace: str, *, extra: str = "", msg: str = "hello") -> Flow:
    return Flow.save_source(
        f"id: {flow_id}\nnamespace: {namespace}\n{extra}" + TASKS.format(msg=msg)
    )


def _flows_rows(page: Page) -> Any:
    return page.locator("table.flows-list tbody tr")


def test_search_finds_a_flow_among_200(page: Page) -> None:
    for number in range(200):
        _flow(
            f"flow-{number:03}",
            NAMESPACES[number % len(NAMESPACES)],
            extra="description: A daily job\n",
        )
    _flow("quarterly-invoices", "company.sales", extra="labels:\n  team: finance\n")
    page.goto("/")
    page.locator("header.top").get_by_role("link", name="Flows", exact=True).click()
    expect(page).to_have_url(re.compile(r"/flows/$"))
    expect(_flows_rows(page)).to_have_count(50)
    expect(page.locator(".pager")).to_contain_text("Page 1 of 5")

    search = page.get_by_role("searchbox", name="Search flows")
    search.fill("INVOICES")
    search.press("Enter")
    expect(_flows_rows(page)).to_have_count(1)
    expect(_flows_rows(page).first).to_contain_text("quarterly-invoices")
    expect(_flows_rows(page).first).to_contain_text("team: finance")

    page.get_by_role("link", name="Clear").click()
    expect(_flows_rows(page)).to_have_count(50)
    page.locator(".pager").get_by_role("link", name="Last").click()
    chip = page.get_by_role("link", name="team: finance")  # the 201st flow, on the last page
    chip.click()
    expect(_flows_rows(page)).to_have_count(1)
    expect(page.get_by_label("Label").first).to_have_value("team:finance")


def test_clicking_a_header_sorts_the_flows_and_clicking_again_reverses(
    page: Page, alice: Any
) -> None:
    _flow("alpha", "dev", extra="description: Loads the warehouse\nlabels:\n  team: data\n")
    _flow("beta", "company.sales", extra="labels:\n  team: sales\n  env: prod\n")
    _flow("gamma", "browser", extra="description: Sends the weekly report\n")
    scheduled = _flow(
        "nightly",
        "company.data.etl",
        extra="description: Refreshes the marts every night\n"
        "triggers:\n  - id: nightly\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: '0 2 * * *'\n",
    )
    clock_tick(timezone.now())
    for flow, state in ((scheduled, State.SUCCESS), (_flow("delta", "dev"), State.FAILED)):
        Execution.objects.create(
            flow_revision=flow.current_revision,
            namespace=flow.namespace,
            flow_id=flow.flow_id,
            state=state,
        )
    page.goto("/flows/")
    first_cells = page.locator("table.flows-list tbody tr td:first-child")
    expect(first_cells).to_have_text(["alpha", "beta", "delta", "gamma", "nightly"])
    screenshot_when_asked(page, "flows-list.png")

    page.locator("thead").get_by_role("link", name="Namespace").click()
    expect(first_cells).to_have_text(["gamma", "nightly", "beta", "alpha", "delta"])
    expect(page.locator("thead th[aria-sort=ascending]")).to_contain_text("Namespace")
    page.locator("thead").get_by_role("link", name="Namespace").click()
    expect(first_cells).to_have_text(["delta", "alpha", "beta", "nightly", "gamma"])
    expect(page.locator("thead th[aria-sort=descending]")).to_contain_text("Namespace")


def test_the_logs_page_finds_a_line_of_a_real_run(page: Page, alice: Any) -> None:
    flow = _flow("talker", "dev", msg="the quick brown fox")
    _flow("other", "dev", msg="something else")
    execution = execution_start(flow=flow, user=alice)
    wait_until(
        lambda: Execution.objects.filter(pk=execution.pk, state=State.SUCCESS).exists(),
        what="the run to end",
    )
    page.goto("/")
    page.locator("header.top").get_by_role("link", name="Logs").click()
    search = page.get_by_role("searchbox", name="Search the messages")
    search.fill("BROWN FOX")
    search.press("Enter")
    rows = page.locator("table.logs-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("the quick brown fox")
    expect(rows.first).to_contain_text("dev / talker")
    expect(rows.first.locator("time")).to_contain_text(timezone.now().strftime("%Y-%m-%d"))
    rows.first.get_by_role("link", name=execution.pk).click()
    expect(page).to_have_url(re.compile(f"/executions/{execution.pk}/$"))


def test_the_audit_page_links_to_an_execution(browser_context: Any, alice: Any) -> None:
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    flow = _flow("audited", "dev")
    page = browser_context.new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(flow.get_absolute_url())
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_url("**/executions/*/")
    execution = Execution.objects.get(flow_id="audited")

    page.locator("header.top").get_by_role("link", name="Audit log").click()
    row = page.locator("table.audit tbody tr", has_text="ran")
    expect(row).to_have_count(1)
    row.get_by_role("link", name=execution.pk).click()
    expect(page).to_have_url(re.compile(f"/executions/{execution.pk}/$"))
