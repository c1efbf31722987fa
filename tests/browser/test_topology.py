"""Beside the editor, the flow's tasks drawn as a diagram that follows the typing.

Each test runs twice: with the CodeMirror editor, which checks the text and tells the
topology, and with its bundle blocked, where the topology follows the plain textarea
on its own. Where the CodeMirror bundle is absent, both runs use the textarea.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from flows.models import Flow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SOURCE = (
    "id: three-steps\n"
    "namespace: dev\n"
    "tasks:\n"
    "  - id: first\n"
    "    type: io.kestra.plugin.core.log.Log\n"
    "    message: one\n"
    "  - id: second\n"
    "    type: io.kestra.plugin.scripts.python.Script\n"
    "    script: print('two')\n"
    "  - id: third\n"
    "    type: io.kestra.plugin.core.log.Log\n"
    "    message: three\n"
)


@pytest.fixture(params=["codemirror", "textarea"])
def page(request: pytest.FixtureRequest, page: Page) -> Page:
    if request.param == "textarea":
        page.route("**/static/editor/**", lambda route: route.abort())
    return page


LOG = "io.kestra.plugin.core.log.Log"
NESTED = (
    "id: nested\n"
    "namespace: dev\n"
    "tasks:\n"
    "  - id: fan\n"
    "    type: io.kestra.plugin.core.flow.Parallel\n"
    "    tasks:\n"
    f"      - id: left\n        type: {LOG}\n        message: l\n"
    f"      - id: middle\n        type: {LOG}\n        message: m\n"
    f"      - id: right\n        type: {LOG}\n        message: r\n"
    "  - id: check\n"
    "    type: io.kestra.plugin.core.flow.If\n"
    '    condition: "{{ execution.id }}"\n'
    "    then:\n"
    f"      - id: go\n        type: {LOG}\n        message: go\n"
    "    else:\n"
    f"      - id: stop\n        type: {LOG}\n        message: stop\n"
    "finally:\n"
    f"  - id: tidy\n    type: {LOG}\n    message: done\n"
)


def _open_flow(page: Page, alice: Any, source: str = SOURCE, tasks: int = 3) -> None:
    flow = Flow.save_source(source, author=alice)
    page.goto(flow.get_absolute_url())
    expect(_nodes(page)).to_have_count(tasks)


def _nodes(page: Page) -> Any:
    return page.get_by_role("complementary", name="Topology").locator(".topology-node")


def _uses_codemirror(page: Page) -> bool:
    return page.locator(".cm-content").count() > 0


def _type_at_the_end(page: Page, text: str) -> None:
    if _uses_codemirror(page):
        page.locator(".cm-content").click()
        page.keyboard.press("Control+End")
    else:
        textarea = page.locator("textarea[name=source]")
        textarea.focus()
        textarea.evaluate("t => t.setSelectionRange(t.value.length, t.value.length)")
    # Inserted in one go: typing line by line would let an editor re-indent it.
    page.keyboard.insert_text(text)


def test_the_topology_shows_one_node_per_task_in_order(page: Page, alice: Any) -> None:
    _open_flow(page, alice)

    nodes = _nodes(page)
    expect(nodes.locator(".topology-id")).to_have_text(["first", "second", "third"])
    expect(nodes.nth(1)).to_contain_text("python.Script")
    expect(nodes.nth(0)).to_contain_text("log.Log")
    topology = page.get_by_role("complementary", name="Topology")
    expect(topology).to_contain_text("Start")
    expect(topology).to_contain_text("End")


def test_typing_a_new_task_adds_its_node_within_a_couple_of_seconds(page: Page, alice: Any) -> None:
    _open_flow(page, alice)

    _type_at_the_end(
        page, "  - id: fourth\n    type: io.kestra.plugin.core.log.Log\n    message: four\n"
    )

    expect(_nodes(page).locator(".topology-id")).to_have_text(
        ["first", "second", "third", "fourth"], timeout=3_000
    )


def test_a_task_with_an_error_is_marked_in_the_topology(page: Page, alice: Any) -> None:
    _open_flow(page, alice)

    _type_at_the_end(page, "  - id: broken\n    type: io.kestra.plugin.core.log.Nope\n")

    expect(_nodes(page)).to_have_count(4, timeout=3_000)
    expect(_nodes(page).nth(3)).to_have_class(re.compile(r"\bhas-error\b"))
    expect(page.locator(".topology-node.has-error")).to_have_count(1)


def test_clicking_a_node_moves_the_cursor_to_its_task(page: Page, alice: Any) -> None:
    _open_flow(page, alice)

    _nodes(page).filter(has_text="second").click()

    if _uses_codemirror(page):
        expect(page.locator(".cm-activeLine")).to_contain_text("second")
    else:
        textarea = page.locator("textarea[name=source]")
        expect(textarea).to_be_focused()
        line = textarea.evaluate("t => t.value.slice(0, t.selectionStart).split('\\n').length")
        assert line == 7
        assert textarea.evaluate("t => t.value.slice(t.selectionStart, t.selectionEnd)") == (
            "id: second"
        )


def _group(page: Page, task_id: str) -> Any:
    """The box of a flowable task: its own node and its children."""
    return page.get_by_role("complementary", name="Topology").locator(
        f".topology-group[data-task='{task_id}']"
    )


def _open_nested_flow(page: Page, alice: Any) -> None:
    _open_flow(page, alice, NESTED, tasks=8)


def test_a_parallel_draws_its_tasks_side_by_side_inside_it(page: Page, alice: Any) -> None:
    _open_nested_flow(page, alice)

    children = _group(page, "fan").locator(".topology-branch .topology-node")
    expect(children.locator(".topology-id")).to_have_text(["left", "middle", "right"])
    parallel = _group(page, "fan").locator(".topology-node").first.bounding_box()
    boxes = [children.nth(i).bounding_box() for i in range(3)]
    assert all(box["y"] == boxes[0]["y"] for box in boxes), "side by side: one row"
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    assert all(box["y"] > parallel["y"] for box in boxes), "under the Parallel's own node"


def test_an_if_shows_its_then_and_else_branches_with_their_labels(page: Page, alice: Any) -> None:
    _open_nested_flow(page, alice)

    branches = _group(page, "check").locator(".topology-branch")
    expect(branches.locator(".topology-branch-label")).to_have_text(["then", "else"])
    expect(branches.nth(0).locator(".topology-id")).to_have_text(["go"])
    expect(branches.nth(1).locator(".topology-id")).to_have_text(["stop"])
    then, otherwise = branches.nth(0).bounding_box(), branches.nth(1).bounding_box()
    assert then["y"] == otherwise["y"] and then["x"] < otherwise["x"]


def test_the_finally_tasks_are_a_labelled_section(page: Page, alice: Any) -> None:
    _open_nested_flow(page, alice)

    section = page.locator(".topology-section[data-section='finally']")
    expect(section.locator(".topology-section-label")).to_have_text("finally")
    expect(section.locator(".topology-id")).to_have_text(["tidy"])


def test_clicking_a_nested_node_moves_the_cursor_to_its_task(page: Page, alice: Any) -> None:
    _open_nested_flow(page, alice)

    _nodes(page).filter(has_text="middle").click()

    if _uses_codemirror(page):
        expect(page.locator(".cm-activeLine")).to_contain_text("id: middle")
    else:
        textarea = page.locator("textarea[name=source]")
        expect(textarea).to_be_focused()
        line = textarea.evaluate("t => t.value.slice(0, t.selectionStart).split('\\n').length")
        assert line == 10
        assert textarea.evaluate("t => t.value.slice(t.selectionStart, t.selectionEnd)") == (
            "id: middle"
        )


def test_a_nested_task_with_an_error_is_the_one_marked(page: Page, alice: Any) -> None:
    _open_nested_flow(page, alice)

    _type_at_the_end(page, "  - id: broken\n    type: io.kestra.plugin.core.log.Nope\n")

    expect(page.locator(".topology-node.has-error")).to_have_count(1, timeout=3_000)
    expect(page.locator(".topology-node.has-error .topology-id")).to_have_text("broken")
    expect(page.locator(".topology-section[data-section='finally'] .topology-id")).to_have_text(
        ["tidy", "broken"]
    )
