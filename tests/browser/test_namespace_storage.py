"""Namespace files and the KV store in real Chromium against a real daphne server: alice
builds a file tree beside the flow editor (folder, file, edit, rename, delete, a refused
path) and keeps typed entries on the KV store page (a refused value, edit, delete)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from flows.models import Flow
from namespaces.files import entry_get, file_read
from namespaces.models import KeyValue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FLOW = "id: etl\nnamespace: dev\ntasks:\n  - id: a\n    type: Log\n    message: hi\n"


def test_alice_builds_a_file_tree_beside_the_flow_editor(page: Page) -> None:
    Flow.save_source(FLOW)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/flows/dev/etl/")
    panel = page.get_by_test_id("flow-namespace-files")
    panel.get_by_role("button", name="Show files").click()
    expect(panel.get_by_test_id("namespace-files")).to_contain_text("No files yet.")

    panel.get_by_label("New", exact=True).fill("scripts")
    panel.get_by_role("button", name="New folder").click()
    tree = panel.get_by_role("navigation", name="Files of dev")
    # The new folder is open, and where a new file goes.
    expect(tree.locator("li.folder.selected[data-path='scripts']")).to_be_visible()
    expect(panel.get_by_label("New", exact=True)).to_have_value("scripts/")
    panel.get_by_label("New", exact=True).fill("scripts/hello.py")
    panel.get_by_role("button", name="New file").click()
    editor = panel.get_by_label("Content of /scripts/hello.py")
    editor.fill("print('hello from the tree')\n")
    panel.get_by_role("button", name="Save file").click()
    expect(panel.get_by_test_id("file-facts")).to_contain_text("Revision 2, 29 bytes")
    assert file_read("dev", "scripts/hello.py") == b"print('hello from the tree')\n"

    panel.get_by_label("Rename to").fill("scripts/greet.py")
    panel.get_by_role("button", name="Rename").click()
    expect(panel.get_by_label("Content of /scripts/greet.py")).to_have_value(
        "print('hello from the tree')\n"
    )
    assert entry_get("dev", "scripts/hello.py") is None

    panel.get_by_label("New", exact=True).fill("../outside.py")
    panel.get_by_role("button", name="New file").click()
    expect(panel.get_by_role("alert")).to_contain_text("must not contain '..'")
    expect(panel.locator("li[data-path='scripts/greet.py']")).to_be_visible()  # tree intact

    tree = panel.get_by_role("navigation", name="Files of dev")
    tree.get_by_role("link", name="scripts").click()
    expect(tree.locator("li.folder.selected[data-path='scripts']")).to_be_visible()
    tree.get_by_role("link", name="greet.py").click()
    expect(tree.locator("li.file.selected[data-path='scripts/greet.py']")).to_be_visible()
    panel.get_by_role("button", name="Delete").click()
    expect(panel.locator("li[data-path='scripts/greet.py']")).to_have_count(0)
    assert entry_get("dev", "scripts/greet.py") is None
    assert page.url.endswith("/flows/dev/etl/")  # all of it without leaving the flow


def test_alice_keeps_typed_entries_on_the_kv_store_page(page: Page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/namespaces/dev/")
    page.get_by_role("link", name="KV store").click()
    store = page.get_by_test_id("kv")
    expect(store).to_contain_text("No keys in this namespace's KV store.")

    store.get_by_label("Key", exact=True).fill("batch_size")
    store.get_by_label("Type", exact=True).select_option("NUMBER")
    store.get_by_label("Value", exact=True).fill("a lot")
    store.get_by_role("button", name="Save key").click()
    store = page.get_by_test_id("kv")
    expect(store.get_by_role("alert")).to_contain_text("The value for kvType NUMBER is not valid")
    assert not KeyValue.objects.exists()

    store.get_by_label("Value", exact=True).fill("500")
    store.get_by_label("Description", exact=True).fill("rows per insert")
    store.get_by_label("Expires after").fill("P7D")
    store.get_by_role("button", name="Save key").click()
    row = page.get_by_test_id("kv").locator("tr[data-key='batch_size']")
    expect(row).to_contain_text("NUMBER")
    expect(row).to_contain_text("rows per insert")
    entry = KeyValue.objects.get(namespace="dev", key="batch_size")
    assert (entry.type, entry.value) == ("NUMBER", 500) and entry.expires_at is not None

    row.get_by_role("link", name="Edit batch_size").click()
    store = page.get_by_test_id("kv")
    expect(store.get_by_label("Value", exact=True)).to_have_value("500")
    store.get_by_label("Value", exact=True).fill("750")
    store.get_by_role("button", name="Save key").click()
    expect(page.get_by_test_id("kv").locator("tr[data-key='batch_size']")).to_contain_text("750")
    assert KeyValue.objects.get(key="batch_size").revision == 2

    page.get_by_role("button", name="Delete batch_size").click()
    expect(page.get_by_test_id("kv")).to_contain_text("No keys in this namespace's KV store.")
    assert not KeyValue.objects.exists()
