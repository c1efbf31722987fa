"""The Access page's "Allowed namespaces": alice, Admin of dev, lets company.data reach
dev, sees a bad name refused without losing what was there, then takes it back. Real
Chromium against a real daphne server."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import AuditEntry, NamespaceAllowance
from tests.browser.test_team_access import log_in  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alice_allows_a_namespace_on_the_access_page_and_takes_it_back(
    log_in: Any,  # noqa: F811
    alice: Any,
) -> None:
    page: Page = log_in(alice)
    page.goto("/namespaces/dev/access/")
    section = page.get_by_test_id("allowances")
    expect(section).to_contain_text("No other namespace may reach this one.")

    section.get_by_label("Allow namespace").fill("company.data")
    section.get_by_role("button", name="Allow", exact=True).click()
    section = page.get_by_test_id("allowances")
    expect(section.locator("tr[data-allowed='company.data']")).to_be_visible()
    assert NamespaceAllowance.objects.filter(namespace="dev", allowed="company.data").exists()

    section.get_by_label("Allow namespace").fill("not a namespace!")
    section.get_by_role("button", name="Allow", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("not a namespace!")
    # Refused, and what was allowed before is still there.
    expect(
        page.get_by_test_id("allowances").locator("tr[data-allowed='company.data']")
    ).to_be_visible()
    assert NamespaceAllowance.objects.filter(namespace="dev").count() == 1

    page.get_by_role("button", name="Stop allowing company.data").click()
    expect(page.get_by_test_id("allowances")).to_contain_text(
        "No other namespace may reach this one."
    )
    assert not NamespaceAllowance.objects.filter(namespace="dev").exists()
    actions = list(
        AuditEntry.objects.filter(namespace="dev", object_type="allowance")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["allowed", "disallowed"]
