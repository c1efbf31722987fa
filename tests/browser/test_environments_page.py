"""A superuser opens the Python environments page from the header in real Chromium, sees
what an engine keeps installed and removes an environment after confirming."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from environments.models import PythonEnvironment
from tests.browser.conftest import screenshot_when_asked
from tests.browser.test_team_access import log_in  # noqa: F401 - the fixture
from tests.environments.rows import environment_row
from tests.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def root(db: Any) -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)


def test_a_superuser_finds_an_environment_from_the_header_and_removes_it(
    log_in: Any,  # noqa: F811
    root: Any,
) -> None:
    environment_row("envpandas", "pandas>=2", packages=["pandas==2.2.3", "numpy==2.1.3"])
    environment_row("envrich", "rich")
    page: Page = log_in(root)

    page.get_by_role("link", name="Environments").click()
    expect(page.get_by_role("heading", name="Python environments", level=1)).to_be_visible()
    row = page.locator("#environment-envpandas")
    expect(row).to_contain_text("pandas>=2")
    row.get_by_text("2 packages").click()
    expect(row.get_by_text("numpy==2.1.3")).to_be_visible()
    screenshot_when_asked(page, "environments-page.png")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Remove envpandas").click()

    expect(page.get_by_role("status")).to_contain_text("Removed the environment envpandas")
    expect(page.locator("#environment-envpandas")).to_have_count(0)
    expect(page.locator("#environment-envrich")).to_be_visible()
    assert PythonEnvironment.objects.get(key="envpandas").state == "RETIRED"
