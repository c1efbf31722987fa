"""A flow with inputs asks for them when Run is clicked, in real Chromium.

The form comes from the flow's input definitions; a refused value comes back with its
message and everything typed kept; a valid form starts the run with typed inputs.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from executions.models import Execution
from executions.storage import storage_read
from flows.models import Flow

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

ORDERS_YAML = """\
id: orders
namespace: browser
inputs:
  - id: customer
    type: STRING
    displayName: Customer name
    description: As written on the invoice
  - id: count
    type: INT
    defaults: 1
    max: 100
  - id: express
    type: BOOLEAN
    defaults: false
  - id: region
    type: SELECT
    values: [eu, us, asia]
    defaults: us
  - id: extras
    type: MULTISELECT
    values: [gift, receipt, insurance]
    required: false
  - id: ship_at
    type: DATETIME
  - id: deliver_on
    type: DATE
    required: false
  - id: window
    type: DURATION
    defaults: PT2H
  - id: options
    type: JSON
    defaults: '{"fragile": true}'
  - id: invoice
    type: FILE
    required: false
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: ordering
"""


def _run_dialog(page: Page, flow: Flow) -> Any:
    page.goto(flow.get_absolute_url())
    page.get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_a_flow_with_inputs_asks_for_them_refuses_a_bad_value_then_runs(
    page: Page, alice: Any
) -> None:
    flow = Flow.save_source(ORDERS_YAML, author=alice)
    dialog = _run_dialog(page, flow)

    expect(dialog.get_by_label("Customer name")).to_have_value("")
    expect(dialog).to_contain_text("As written on the invoice")
    expect(dialog.get_by_label("count")).to_have_value("1")
    expect(dialog.get_by_label("region")).to_have_value("us")
    expect(dialog.get_by_label("window")).to_have_value("PT2H")
    expect(dialog.get_by_label("express")).not_to_be_checked()

    dialog.get_by_label("Customer name").fill("Ada Lovelace")
    dialog.get_by_label("count").fill("2.5")
    dialog.get_by_label("express").check()
    dialog.get_by_label("region").select_option("eu")
    dialog.get_by_label("extras").select_option(["gift", "insurance"])
    dialog.get_by_label("deliver_on").fill("2024-05-07")
    dialog.get_by_role("button", name="Run").click()

    expect(dialog).to_contain_text("Input 'count' must be an integer, got '2.5'")
    expect(dialog).to_contain_text("Input 'ship_at' is required")
    expect(dialog.get_by_label("Customer name")).to_have_value("Ada Lovelace")
    expect(dialog.get_by_label("count")).to_have_value("2.5")
    expect(dialog.get_by_label("region")).to_have_value("eu")
    expect(dialog.get_by_label("express")).to_be_checked()
    assert not Execution.objects.filter(flow_id="orders").exists()

    dialog.get_by_label("count").fill("3")
    dialog.get_by_label("ship_at").fill("2024-05-06T07:08")
    dialog.get_by_label("invoice").set_input_files(
        {"name": "invoice.txt", "mimeType": "text/plain", "buffer": b"total: 42\n"}
    )
    dialog.get_by_role("button", name="Run").click()

    page.wait_for_url(re.compile(r"/executions/[^/]+/$"))
    execution = Execution.objects.get(flow_id="orders")
    invoice = execution.inputs.pop("invoice")
    assert execution.inputs == {
        "customer": "Ada Lovelace",
        "count": 3,
        "express": True,
        "region": "eu",
        "extras": ["gift", "insurance"],
        "ship_at": "2024-05-06T07:08:00Z",
        "deliver_on": "2024-05-07",
        "window": "PT2H",
        "options": {"fragile": True},
    }
    assert storage_read(invoice) == b"total: 42\n"


def test_inputs_added_in_the_editor_are_asked_for_by_its_run_button(page: Page, alice: Any) -> None:
    source = "id: later\nnamespace: browser\ntasks:\n  - id: a\n    type: Log\n    message: m\n"
    flow = Flow.save_source(source, author=alice)
    page.goto(flow.get_absolute_url())
    page.wait_for_function("window.flowsiteEditorReadyMs !== undefined")
    page.get_by_label("Flow YAML").fill(
        source + "inputs:\n  - id: batch\n    type: INT\n    description: How many rows\n"
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved revision 2")

    page.get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("How many rows")
    dialog.get_by_label("batch").fill("12")
    dialog.get_by_role("button", name="Run").click()

    page.wait_for_url(re.compile(r"/executions/[^/]+/$"))
    assert Execution.objects.get(flow_id="later").inputs == {"batch": 12}


def test_cancel_closes_the_run_form_without_starting_anything(page: Page, alice: Any) -> None:
    flow = Flow.save_source(ORDERS_YAML.replace("id: orders", "id: cancelled"), author=alice)
    dialog = _run_dialog(page, flow)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert not Execution.objects.filter(flow_id="cancelled").exists()
