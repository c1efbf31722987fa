"""No dead ends: styled 403, 404 and 500 pages with ways back; JSON 404s under /api."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from accounts.models import Role, RoleBinding
from tests.triggers.helpers import save, schedule_flow

pytestmark = pytest.mark.django_db

WAYS_BACK = (
    'href="/">Dashboard</a>',
    'href="/flows/">Flows</a>',
    'href="/executions/">Executions</a>',
)


def test_the_tests_run_as_production_does_without_debug() -> None:
    assert settings.DEBUG is False


def test_an_unknown_path_answers_the_styled_404_with_navigation(client: Client, alice: Any) -> None:
    client.force_login(alice)
    response = client.get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page and "<code>/no/such/page/</code>" in page
    assert '<header class="top">' in page and "Log out" in page
    assert all(link in page for link in WAYS_BACK)


def test_a_flow_of_another_namespace_is_the_same_404_as_one_that_does_not_exist(
    client: Client, charlie: Any
) -> None:
    save(schedule_flow("0 9 * * *"))  # dev.scheduled: charlie has no role in dev
    client.force_login(charlie)
    hidden = client.get("/flows/dev/scheduled/")
    missing = client.get("/flows/dev/nothing/")
    assert hidden.status_code == missing.status_code == 404

    def main(response: Any, path: str) -> str:
        return response.content.decode().split("<main>")[1].replace(path, "PATH")

    assert main(hidden, "/flows/dev/scheduled/") == main(missing, "/flows/dev/nothing/")


def test_a_404_for_a_visitor_not_logged_in_still_offers_ways_back(client: Client) -> None:
    response = client.get("/nowhere/")
    assert response.status_code == 404 and all(
        link in response.content.decode() for link in WAYS_BACK
    )


def test_a_refused_change_answers_the_styled_403_naming_the_role(client: Client) -> None:
    from tests.personas import make_charlie

    charlie = make_charlie()
    RoleBinding.objects.create(user=charlie, namespace="dev", role=Role.VIEWER)
    save(schedule_flow("*/15 * * * *"))
    client.force_login(charlie)
    response = client.post("/flows/dev/scheduled/triggers/every/toggle/", {"disabled": "1"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "You may not do this" in page and "You need the Editor role on dev." in page
    assert all(link in page for link in WAYS_BACK)


@override_settings(ROOT_URLCONF="tests.pages.failing_urls")
def test_a_server_error_answers_the_styled_500_without_the_database(
    django_assert_num_queries: Any,
) -> None:
    client = Client(raise_request_exception=False)
    with django_assert_num_queries(0):
        response = client.get("/broken/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page and "a bug in a view" not in page
    assert all(link in page for link in WAYS_BACK)


@pytest.mark.parametrize("method", ["get", "post", "delete", "put"])
@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/flows/a/b/c/d", "/api/nothing/"])
def test_an_unknown_api_path_answers_json_never_html(api: Client, method: str, path: str) -> None:
    response = getattr(api, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["message"] == f"Not found: {method.upper()} {path}"
