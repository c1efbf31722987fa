"""A user downloads a file a task produced, from the execution page, in real Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from executions.lifecycle import execution_start
from flows.models import Flow
from tests.flows_helpers import finished

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

REPORT = "id: report\nnamespace: browser\ntasks:\n" + (
    "  - id: export\n"
    "    type: io.kestra.plugin.scripts.shell.Commands\n"
    "    taskRunner:\n"
    "      type: io.kestra.plugin.core.runner.Process\n"
    "    outputFiles:\n"
    "      - '*.csv'\n"
    "    commands:\n"
    "      - printf 'city,temp\\nParis,21\\n' > weather.csv\n"
)


def test_a_user_downloads_an_output_file_from_the_execution_page(
    page: Page, alice: Any, tmp_path: Any
) -> None:
    execution = finished(execution_start(flow=Flow.save_source(REPORT, author=alice), user=alice))
    page.goto(execution.get_absolute_url())
    link = page.get_by_test_id("files").get_by_role("link", name="weather.csv")
    expect(link).to_be_visible()
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "weather.csv"
    saved = tmp_path / "weather.csv"
    download.save_as(saved)
    assert saved.read_bytes() == b"city,temp\nParis,21\n"
