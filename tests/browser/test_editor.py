"""A user edits a flow in the CodeMirror editor: completion from the schema, errors as
they type, Ctrl+S to save, then Run.

Debian's Chromium against a real daphne server; data is committed for it, so the tests
are transactional.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from flows.models import Flow
from tests.browser.conftest import screenshot_when_asked

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

STORED = (
    "id: edited\n"
    "namespace: browser\n"
    "tasks:\n"
    "  - id: hello\n"
    "    type: io.kestra.plugin.core.log.Log\n"
    "    message: hello\n"
)


def _open_editor(page: Page, flow: Flow) -> Any:
    """The flow's page with the editor mounted; returns the editor's content area."""
    page.goto(flow.get_absolute_url())
    page.wait_for_function("window.flowsiteEditorReadyMs !== undefined")
    # Completion and hover read the flow schema, fetched after the editor mounts; on a
    # loaded machine it can arrive after the first keystrokes.
    page.wait_for_function("window.flowsiteSchemaReadyMs !== undefined", timeout=60_000)
    return page.locator("#editor .cm-content")


def _replace_text(page: Page, text: str) -> None:
    # The hidden textarea forwards what is filled into it to the editor.
    page.get_by_label("Flow YAML").fill(text)


def _type_at_end(page: Page, content: Any, text: str) -> None:
    content.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def test_typing_type_inside_a_task_offers_the_task_types(page: Page, alice: Any) -> None:
    flow = Flow.save_source(STORED, author=alice)
    content = _open_editor(page, flow)
    _replace_text(page, STORED + "  - id: second\n    ")

    _type_at_end(page, content, "type: ")
    page.keyboard.press("Control+Space")

    popup = page.locator(".cm-tooltip-autocomplete")
    expect(popup).to_contain_text("io.kestra.plugin.scripts.python.Script")
    expect(popup).to_contain_text("io.kestra.plugin.core.log.Log")


def test_after_choosing_the_python_script_type_its_properties_are_offered(
    page: Page, alice: Any
) -> None:
    flow = Flow.save_source(STORED, author=alice)
    content = _open_editor(page, flow)
    _replace_text(page, STORED + "  - id: second\n    ")

    _type_at_end(page, content, "type: ")
    page.keyboard.press("Control+Space")
    popup = page.locator(".cm-tooltip-autocomplete")
    popup.get_by_text("io.kestra.plugin.scripts.python.Script", exact=True).click()
    expect(popup).to_have_count(0)
    expect(content).to_contain_text("type: io.kestra.plugin.scripts.python.Script")

    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("b")
    page.keyboard.press("Control+Space")
    expect(popup).to_contain_text("beforeCommands")
    page.keyboard.press("Escape")
    page.keyboard.press("Backspace")
    page.keyboard.type("scr")
    page.keyboard.press("Control+Space")
    expect(popup).to_contain_text("script")


def test_a_wrong_indentation_is_marked_at_its_line_and_listed_as_a_problem(
    page: Page, alice: Any
) -> None:
    flow = Flow.save_source(STORED, author=alice)
    _open_editor(page, flow)
    _replace_text(page, STORED + "   - id: misplaced\n")

    expect(page.locator(".cm-lintRange-error")).to_have_count(1)
    marked_line = page.locator(".cm-lintRange-error").evaluate(
        """mark => {
          const line = mark.closest(".cm-line");
          return [...line.parentNode.children].filter(el => el.matches(".cm-line")).indexOf(line) + 1;
        }"""
    )
    assert marked_line == 7
    problems = page.locator("#problems")
    expect(problems).to_be_visible()
    expect(problems.locator("li").first).to_contain_text("Line 7")

    problems.locator("li button").first.click()
    cursor_line = page.evaluate(
        """() => document.activeElement.closest(".cm-editor") !== null
          && getSelection().anchorNode.parentElement.closest(".cm-line").textContent"""
    )
    assert cursor_line == "   - id: misplaced"

    _replace_text(page, STORED)
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(problems).to_be_hidden()


def test_ctrl_s_saves_the_flow_as_a_new_revision(page: Page, alice: Any) -> None:
    flow = Flow.save_source(STORED, author=alice)
    content = _open_editor(page, flow)

    _type_at_end(page, content, "description: saved with the keyboard\n")
    page.keyboard.press("Control+s")

    expect(page.get_by_role("status")).to_contain_text("Saved revision 2")
    flow.refresh_from_db()
    assert flow.revision == 2
    assert "saved with the keyboard" in flow.source
    # The swapped partial has its own editor, still holding the text.
    expect(page.locator("#editor .cm-content")).to_contain_text("saved with the keyboard")
    expect(page.locator("#editor .cm-editor")).to_have_count(1)
    # Saved: leaving asks nothing (an unanswered beforeunload would keep the page here).
    page.get_by_role("link", name="Executions", exact=True).click()
    page.wait_for_url("**/executions/")


def test_the_editor_asks_before_leaving_with_unsaved_changes(page: Page, alice: Any) -> None:
    flow = Flow.save_source(STORED, author=alice)
    content = _open_editor(page, flow)
    _type_at_end(page, content, "# not saved\n")

    asked: list[str] = []

    def refuse(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", refuse)
    page.get_by_role("link", name="Executions", exact=True).click()
    page.wait_for_timeout(500)  # a refused navigation has no event of its own to wait for
    assert asked == ["beforeunload"]
    expect(page).to_have_url(re.compile(re.escape(flow.get_absolute_url()) + "$"))


def test_run_from_the_flow_page_opens_the_execution_and_its_output_arrives(
    page: Page, alice: Any, worker: Any
) -> None:
    flow = Flow.save_source(
        "id: editor-run\n"
        "namespace: browser\n"
        "tasks:\n"
        "  - id: greet\n"
        "    type: io.kestra.plugin.scripts.shell.Commands\n"
        "    taskRunner:\n"
        "      type: io.kestra.plugin.core.runner.Process\n"
        "    commands:\n"
        "      - echo hello from the editor\n",
        author=alice,
    )
    _open_editor(page, flow)

    page.get_by_role("button", name="Run").click()
    page.wait_for_url(re.compile(r"/executions/[^/]+/$"))
    expect(page.locator("#logs")).to_contain_text("hello from the editor")
    expect(page.get_by_test_id("execution-state")).to_have_text("SUCCESS")


def test_the_flow_page_is_interactive_quickly(page: Page, alice: Any) -> None:
    flow = Flow.save_source(STORED, author=alice)
    _open_editor(page, flow)
    ready_ms = page.evaluate("window.flowsiteEditorReadyMs")
    print(f"flow page editor ready after {ready_ms:.0f} ms")
    assert ready_ms < 5_000
    screenshot_when_asked(page, "editor-page.png")


def test_hovering_a_property_shows_its_documentation(page: Page, alice: Any) -> None:
    flow = Flow.save_source(
        "id: hover\n"
        "namespace: browser\n"
        "tasks:\n"
        "  - id: hello\n"
        "    type: io.kestra.plugin.scripts.python.Script\n"
        "    beforeCommands: []\n"
        "    script: print(1)\n",
        author=alice,
    )
    _open_editor(page, flow)

    key = page.locator(".cm-line", has_text="beforeCommands")
    key.hover(position={"x": 60, "y": 5})
    expect(page.locator(".cm-tooltip-hover")).to_contain_text("pip install")


def test_the_editor_announces_each_check_and_follows_goto_requests(page: Page, alice: Any) -> None:
    flow = Flow.save_source(STORED, author=alice)
    _open_editor(page, flow)
    page.evaluate(
        """() => document.addEventListener("flowsite:checked",
             event => { window.lastCheck = event.detail; })"""
    )

    _replace_text(page, STORED.replace("id: hello", "id: greeting"))
    # The page's own first check may still arrive: wait for the one of the new text.
    checked = page.wait_for_function(
        "window.lastCheck && window.lastCheck.tasks.length"
        " && window.lastCheck.tasks[0].id === 'greeting' && window.lastCheck.tasks[0].id"
    )
    assert checked.json_value() == "greeting"

    page.evaluate(
        """() => document.dispatchEvent(
             new CustomEvent("flowsite:goto", {detail: {line: 6, column: 5}}))"""
    )
    page.keyboard.type("X")
    expect(page.locator(".cm-line").nth(5)).to_have_text("    Xmessage: hello")
    expect(page.get_by_label("Flow YAML")).to_have_value(
        STORED.replace("id: hello", "id: greeting").replace("    message", "    Xmessage")
    )


def test_an_older_revision_is_restored_from_the_revisions_page(page: Page, alice: Any) -> None:
    Flow.save_source(STORED, author=alice)
    flow = Flow.save_source(STORED.replace("message: hello", "message: changed"), author=alice)
    page.goto(flow.get_absolute_url())
    page.get_by_role("link", name="Revisions").click()
    page.locator("a[href$='/revisions/1/']").first.click()
    page.get_by_role("button", name="Restore as a new revision").click()

    expect(page.locator("#editor")).to_contain_text("Revision 3")
    expect(page.locator("#editor .cm-content")).to_contain_text("message: hello")
    flow.refresh_from_db()
    assert (flow.revision, flow.source) == (3, STORED)


def test_a_refused_save_keeps_the_typed_text_in_the_editor(page: Page, alice: Any) -> None:
    flow = Flow.save_source(STORED, author=alice)
    content = _open_editor(page, flow)
    _type_at_end(page, content, "    colour: red")
    page.keyboard.press("Control+s")

    expect(page.locator("[data-testid=flow-errors]")).to_contain_text("Unknown property 'colour'")
    expect(page.locator("#editor .cm-content")).to_contain_text("colour: red")
    flow.refresh_from_db()
    assert (flow.revision, flow.source) == (1, STORED)


def test_undo_still_works_after_a_save(page: Page, alice: Any) -> None:
    flow = Flow.save_source(STORED, author=alice)
    content = _open_editor(page, flow)
    _type_at_end(page, content, "# a note")
    page.keyboard.press("Control+s")
    expect(page.locator("#editor")).to_contain_text("Saved revision 2")

    page.locator("#editor .cm-content").click()
    page.keyboard.press("Control+z")

    expect(page.locator("#editor .cm-content")).not_to_contain_text("# a note")
