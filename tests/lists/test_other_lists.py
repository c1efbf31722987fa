"""Revisions, tokens, users and teams page and sort the one way every list does."""

from __future__ import annotations

from django.test import Client

from accounts.models import Team
from accounts.tokens import token_create
from flows.models import Flow


def shown(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_flow_revisions_sort_by_number_and_page(alice, client) -> None:
    for number in range(55):
        Flow.save_source(
            f"id: many\nnamespace: dev\ndescription: r{number}\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
        )
    client.force_login(alice)
    first = shown(client, "/flows/dev/many/revisions/")
    assert "Page 1 of 2" in first and first.index(">55</a>") < first.index(">54</a>")
    oldest = shown(client, "/flows/dev/many/revisions/?sort=revision")
    assert oldest.index(">1</a>") < oldest.index(">2</a>")
    assert "Cannot sort by" in shown(client, "/flows/dev/many/revisions/?sort=source")
    assert "There is no page" in shown(client, "/flows/dev/many/revisions/?page=-3")


def test_tokens_sort_by_name(alice, bob, client) -> None:
    token_create(user=alice, name="zebra", days=30)
    token_create(user=alice, name="apple", days=30)
    token_create(user=bob, name="bobs-own", days=30)
    client.force_login(alice)
    html = shown(client, "/tokens/?sort=name")
    assert html.index("apple") < html.index("zebra") and "bobs-own" not in html
    html = shown(client, "/tokens/?sort=-name")
    assert html.index("zebra") < html.index("apple")


def test_users_and_teams_sort_and_page_for_superusers(admin_client, alice, bob, charlie) -> None:
    Team.objects.create(name="alpha")
    html = shown(admin_client, "/users/?sort=-username")
    assert html.index(">charlie") < html.index(">bob") < html.index(">alice")
    assert "Cannot sort by" in shown(admin_client, "/users/?sort=password")
    teams = shown(admin_client, "/teams/?sort=-members")
    assert teams.index(">data</a>") < teams.index(">alpha</a>")  # bob's team has one member
    assert "There is no page" in shown(admin_client, "/teams/?page=abc")
