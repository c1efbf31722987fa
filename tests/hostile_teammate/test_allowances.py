"""Allowed namespaces are dev's Admins' to give: on the Access page and in the API, each
change audited. bob cannot allow himself into dev; charlie cannot even see it."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import AuditEntry, NamespaceAllowance
from accounts.reach import reaches

from .helpers import as_user

pytestmark = pytest.mark.django_db

API = "/api/v1/namespaces/{}/allowed-namespaces"


@pytest.fixture
def people(alice: Any, bob: Any, charlie: Any) -> None:
    """alice (Admin of dev and company), bob (Editor of company.data), charlie (nobody)."""


def logged_in(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def allowance_audit() -> list[tuple[str, str, str, str]]:
    return list(
        AuditEntry.objects.filter(object_type="allowance")
        .order_by("id")
        .values_list("actor_name", "action", "namespace", "object_id")
    )


def test_an_execution_reaches_its_own_namespace_and_its_children_only(people) -> None:
    assert reaches("company.data", "company.data")
    assert reaches("company.data", "company.data.etl")
    assert not reaches("company.data", "company")  # not its parent
    assert not reaches("company.data", "company.hr")  # nor a sibling
    assert not reaches("company.data", "company.database")  # nor a name that starts alike
    assert not reaches("company.data", "dev")


def test_an_allowance_covers_the_children_of_both_sides(people) -> None:
    NamespaceAllowance.objects.create(namespace="dev", allowed="company")
    assert reaches("company.data.etl", "dev.reports")
    assert not reaches("dev", "company")  # one way only
    assert not reaches("companyx", "dev")


def test_alice_allows_company_data_on_dev_through_the_api_and_it_is_audited(people) -> None:
    answer = as_user("alice").put(API.format("dev") + "/company.data")
    assert answer.status_code == 201, answer.content
    assert [a["namespace"] for a in answer.json()["allowedNamespaces"]] == ["company.data"]
    assert answer.json()["allowedNamespaces"][0]["createdBy"] == "alice"
    assert as_user("alice").put(API.format("dev") + "/company.data").status_code == 200
    assert reaches("company.data", "dev")
    listed = as_user("alice").get(API.format("dev")).json()
    assert [a["namespace"] for a in listed["allowedNamespaces"]] == ["company.data"]

    assert as_user("alice").delete(API.format("dev") + "/company.data").status_code == 204
    assert not reaches("company.data", "dev")
    assert as_user("alice").delete(API.format("dev") + "/company.data").status_code == 404
    assert allowance_audit() == [
        ("alice", "allowed", "dev", "company.data"),
        ("alice", "disallowed", "dev", "company.data"),
    ]


def test_alice_puts_the_whole_list_as_kestra_s_namespace_object_holds_it(people) -> None:
    NamespaceAllowance.objects.create(namespace="dev", allowed="company.hr")
    body = {"allowedNamespaces": [{"namespace": "company.data"}, {"namespace": "browser"}]}
    answer = as_user("alice").put(
        API.format("dev"), data=json.dumps(body), content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    names = sorted(a["namespace"] for a in answer.json()["allowedNamespaces"])
    assert names == ["browser", "company.data"]
    assert sorted(allowance_audit()) == [
        ("alice", "allowed", "dev", "browser"),
        ("alice", "allowed", "dev", "company.data"),
        ("alice", "disallowed", "dev", "company.hr"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ("not json", 400, "must be JSON"),
        ('{"allowedNamespaces": "company.data"}', 400, "must hold a list"),
        ('[{"namespace": 7}]', 400, "Each allowed namespace"),
        ('["Company Data"]', 422, "is not a namespace name"),
        ('["dev"]', 422, "already reach dev"),
    ],
)
def test_a_bad_list_is_refused_with_what_is_wrong(people, body, status, words) -> None:
    answer = as_user("alice").put(API.format("dev"), data=body, content_type="application/json")
    assert answer.status_code == status
    assert words in answer.json()["message"]
    assert not NamespaceAllowance.objects.exists()


def test_bob_cannot_allow_himself_into_dev(people) -> None:
    assert as_user("bob").delete(API.format("dev") + "/company.data").status_code == 404
    assert as_user("bob").put(API.format("dev") + "/company.data").status_code == 404
    assert as_user("bob").get(API.format("dev")).status_code == 404
    # On his own namespace he is an Editor, not an Admin: he sees it but may not change it.
    answer = as_user("bob").put(API.format("company.data") + "/dev")
    assert answer.status_code == 403
    assert "Admin" in answer.json()["message"]
    page = logged_in("bob").post("/namespaces/dev/access/allowed/", {"allowed": "company.data"})
    assert page.status_code == 404
    assert not NamespaceAllowance.objects.exists()
    assert allowance_audit() == []


def test_charlie_gets_404_everywhere(people) -> None:
    assert as_user("charlie").get(API.format("dev")).status_code == 404
    assert as_user("charlie").put(API.format("dev") + "/company.data").status_code == 404
    client = logged_in("charlie")
    assert client.post("/namespaces/dev/access/allowed/", {"allowed": "x"}).status_code == 404
    assert client.post("/namespaces/dev/access/allowed/x/remove/").status_code == 404
    assert not NamespaceAllowance.objects.exists()


def test_alice_allows_and_removes_on_dev_s_access_page(people) -> None:
    client = logged_in("alice")
    answer = client.post("/namespaces/dev/access/allowed/", {"allowed": "company.data"})
    assert answer.status_code == 302
    page = html.unescape(client.get("/namespaces/dev/access/").content.decode())
    assert 'data-allowed="company.data"' in page
    assert "Stop allowing company.data" in page
    # The child namespace's page shows it too, managed on dev's.
    child = html.unescape(client.get("/namespaces/dev.etl/access/").content.decode())
    assert 'data-allowed="company.data"' in child and "managed on" in child

    again = client.post("/namespaces/dev/access/allowed/", {"allowed": "company.data"})
    assert again.status_code == 422
    assert "company.data is already allowed on dev" in html.unescape(again.content.decode())
    bad = client.post("/namespaces/dev/access/allowed/", {"allowed": "../etc"})
    assert bad.status_code == 422
    assert "is not a namespace name" in html.unescape(bad.content.decode())

    assert client.post("/namespaces/dev/access/allowed/company.data/remove/").status_code == 302
    assert not NamespaceAllowance.objects.exists()
    assert allowance_audit() == [
        ("alice", "allowed", "dev", "company.data"),
        ("alice", "disallowed", "dev", "company.data"),
    ]
