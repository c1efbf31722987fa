"""Two teams each see only their own namespaces, until an Admin of one grants the other
a role from the Access page. Real Chromium, a real daphne server and a real worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from accounts.models import Role, RoleBinding, Team
from executions.lifecycle import execution_start
from executions.models import Execution
from tests.browser.conftest import VIEWPORT
from tests.flows_helpers import flow_yaml, save_flow
from tests.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOG_TASK = "  - id: say\n    type: Log\n    message: hello\n"


@pytest.fixture
def erin(db: Any) -> Any:
    """bob's counterpart in another team: the team "web", Admin of the namespace web."""
    erin = get_user_model().objects.create_user("erin", "erin@example.org", PASSWORD)
    web = Team.objects.create(name="web")
    web.members.add(erin)
    RoleBinding.objects.create(namespace="web", team=web, role=Role.ADMIN)
    return erin


@pytest.fixture
def log_in(browser: Any, server_url: str) -> Iterator[Callable[[Any], Page]]:
    """A tab of its own browser profile per user, logged in through the real page."""
    contexts: list[Any] = []

    def tab_of(user: Any) -> Page:
        context = browser.new_context(base_url=server_url, viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("header.top")).to_contain_text(user.username)
        return page

    yield tab_of
    for context in contexts:
        context.close()


def _flow_and_execution(namespace: str, flow_id: str) -> Execution:
    flow = save_flow(flow_yaml(LOG_TASK, flow_id=flow_id, namespace=namespace))
    return execution_start(flow=flow)


def _sees_only(page: Page, mine: str, theirs: str) -> None:
    page.goto("/namespaces/")
    expect(page.get_by_role("link", name=mine, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=theirs, exact=True)).to_have_count(0)
    page.goto("/executions/")
    rows = page.locator("table.list tbody")
    expect(rows).to_contain_text(f"{mine} /")
    expect(rows).not_to_contain_text(f"{theirs} /")


def test_an_admin_grants_another_team_viewer_and_its_members_then_see_the_namespace(
    log_in: Callable[[Any], Page], bob: Any, erin: Any
) -> None:
    _flow_and_execution("company.data", "etl-report")
    site_build = _flow_and_execution("web", "site-build")
    bobs, erins = log_in(bob), log_in(erin)

    _sees_only(bobs, "company.data", "web")
    _sees_only(erins, "web", "company.data")
    bobs.goto(site_build.get_absolute_url())
    expect(bobs.get_by_role("heading", name="Execution")).to_have_count(0)

    erins.goto("/namespaces/web/")
    erins.get_by_role("link", name="Access").click()
    grant = erins.locator("form.grant")
    grant.get_by_label("Grant to").select_option(label="Team")
    grant.get_by_label("User or team name").fill("data")
    grant.get_by_label("Role").select_option(label="Viewer")
    grant.get_by_role("button", name="Grant").click()
    row = erins.get_by_test_id("bindings").locator("tr", has_text="Team data")
    expect(row.get_by_label("Role of team data on web")).to_have_value(str(Role.VIEWER))

    bobs.goto("/namespaces/")
    bobs.get_by_role("link", name="web", exact=True).click()
    expect(bobs.get_by_role("link", name="site-build")).to_be_visible()
    expect(bobs.get_by_role("link", name="Access")).to_have_count(0)  # a Viewer, not an Admin
    bobs.goto("/executions/")
    bobs.locator("tr", has_text="web / site-build").get_by_role("link", name=site_build.pk).click()
    expect(bobs.get_by_role("heading", name="Execution")).to_contain_text(site_build.pk)
    expect(bobs.get_by_test_id("execution-state")).to_have_text("SUCCESS")
