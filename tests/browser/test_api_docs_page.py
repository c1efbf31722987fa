"""A user finds the REST API from the header in real Chromium: the page lists Kestra's
paths by group, each jumps to its operation, and the OpenAPI document it links to is
the YAML that Kestra's tooling reads."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_rest_api_page_is_reached_from_the_header_and_links_the_document(
    page: Page, alice: Any
) -> None:
    page.goto("/namespaces/")
    page.get_by_role("link", name="REST API").click()
    expect(page.get_by_role("heading", name="REST API", level=1)).to_be_visible()
    operation = page.locator("article.api-operation", has_text="/api/v1/executions/search")
    expect(operation.first).to_be_visible()
    page.locator("nav.api-groups a").first.click()
    assert "#group-" in page.url
    document = page.request.get(
        page.get_by_role("link", name="/swagger/kestra.yml").get_attribute("href") or ""
    )
    assert document.ok
    assert document.text().startswith("openapi:")
