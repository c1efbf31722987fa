"""Kestra's namespace endpoints for secrets and variables, with HTTP Basic auth.

alice is Admin of ``company``, bob is Editor on ``company.data``, charlie has no role.
"""

from __future__ import annotations

import json

import pytest

from accounts.models import AuditEntry
from namespaces.lookup import namespace_secrets, namespace_variables
from namespaces.models import NamespaceVariable, Secret
from tests.conftest import basic_auth

PLAINTEXT = "ghp_abcdefghijklmnop0123456789"
SECRETS = "/api/v1/namespaces/company.data/secrets"

pytestmark = pytest.mark.django_db


def put_json(client, path: str, body, **headers):
    return client.put(path, json.dumps(body), content_type="application/json", **headers)


def as_(username: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": basic_auth(username)}


def test_a_secret_put_is_stored_encrypted_and_listed_by_key_only(api) -> None:
    response = put_json(api, SECRETS, {"key": "GITHUB_TOKEN", "value": PLAINTEXT})
    assert response.status_code == 200
    assert [meta["key"] for meta in response.json()] == ["GITHUB_TOKEN"]
    listing = api.get(SECRETS)
    assert listing.json()["total"] == 1
    assert listing.json()["results"][0]["key"] == "GITHUB_TOKEN"
    assert listing.json()["results"][0]["updatedBy"] == "alice"
    assert PLAINTEXT not in response.content.decode() + listing.content.decode()
    assert PLAINTEXT not in Secret.objects.get().ciphertext
    assert namespace_secrets("company.data") == {"GITHUB_TOKEN": PLAINTEXT}


def test_a_secret_is_deleted_by_key_and_a_second_delete_is_not_found(api) -> None:
    Secret.store(namespace="company.data", key="GITHUB_TOKEN", value=PLAINTEXT)
    response = api.delete(f"{SECRETS}/GITHUB_TOKEN")
    assert response.status_code == 200 and response.json() == ["GITHUB_TOKEN"]
    again = api.delete(f"{SECRETS}/GITHUB_TOKEN")
    assert again.status_code == 404
    assert again.json()["message"] == "No secret GITHUB_TOKEN in namespace company.data"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"key": "bad key", "value": "v"}, "The key 'bad key' may only hold letters"),
        ({"value": "v"}, '"key" is required and must be a string'),
        ({"key": "TOKEN"}, '"value" of secret TOKEN is required'),
        ({"key": "TOKEN", "value": ""}, '"value" of secret TOKEN is required'),
        (["TOKEN", "v"], "must be a JSON object such as"),
    ],
)
def test_a_bad_secret_body_is_refused_saying_what_is_wrong(api, body, message) -> None:
    response = put_json(api, SECRETS, body)
    assert response.status_code == 422
    assert message in response.json()["message"]
    assert not Secret.objects.exists()


def test_a_body_that_is_not_json_is_refused(api) -> None:
    response = api.put(SECRETS, "key: TOKEN", content_type="application/json")
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["message"]


def test_api_changes_are_audited_without_the_value(api) -> None:
    put_json(api, SECRETS, {"key": "GITHUB_TOKEN", "value": PLAINTEXT})
    api.delete(f"{SECRETS}/GITHUB_TOKEN")
    entries = AuditEntry.objects.filter(object_type="secret")
    assert sorted(entries.values_list("action", flat=True)) == ["created", "deleted"]
    assert all(PLAINTEXT not in f"{e.summary}{e.diff}{e.object_id}" for e in entries)


def test_an_editor_lists_secret_keys_but_may_not_set_or_delete_them(alice, bob, client) -> None:
    Secret.store(namespace="company.data", key="GITHUB_TOKEN", value=PLAINTEXT)
    assert client.get(SECRETS, **as_("bob")).status_code == 200
    refused = put_json(client, SECRETS, {"key": "GITHUB_TOKEN", "value": "x"}, **as_("bob"))
    assert refused.status_code == 403
    assert refused.json()["message"] == "You need the Admin role on company.data"
    assert client.delete(f"{SECRETS}/GITHUB_TOKEN", **as_("bob")).status_code == 403
    assert namespace_secrets("company.data") == {"GITHUB_TOKEN": PLAINTEXT}


def test_an_outsider_is_told_the_namespace_does_not_exist(charlie, client) -> None:
    assert client.get(SECRETS, **as_("charlie")).status_code == 404
    response = put_json(client, SECRETS, {"key": "K", "value": "v"}, **as_("charlie"))
    assert response.status_code == 404
    assert response.json()["message"] == "Namespace company.data not found"


def test_inherited_secrets_list_the_parents_keys_per_namespace(api) -> None:
    Secret.store(namespace="company", key="API_KEY", value="parent")
    Secret.store(namespace="company.data", key="OWN", value="own")
    response = api.get("/api/v1/namespaces/company.data/inherited-secrets")
    assert response.json() == {"company": ["API_KEY"]}


def test_the_namespace_object_carries_its_own_variables(api) -> None:
    NamespaceVariable.store(namespace="company", key="region", value="eu")
    NamespaceVariable.store(namespace="company.data", key="bucket", value="lake")
    response = api.get("/api/v1/namespaces/company.data")
    assert response.json() == {
        "id": "company.data",
        "deleted": False,
        "variables": {"bucket": "lake"},
    }
    inherited = api.get("/api/v1/namespaces/company.data/inherited-variables")
    assert inherited.json() == {"region": "eu"}


def test_putting_the_namespace_replaces_its_variables_and_audits_each_change(api) -> None:
    NamespaceVariable.store(namespace="company.data", key="bucket", value="lake")
    NamespaceVariable.store(namespace="company.data", key="stale", value=1)
    NamespaceVariable.store(namespace="company.data", key="same", value=[1])
    body = {"id": "company.data", "variables": {"bucket": "pond", "same": [1], "new": {"a": 1}}}
    response = put_json(api, "/api/v1/namespaces/company.data", body)
    assert response.status_code == 200
    assert response.json()["variables"] == {"bucket": "pond", "same": [1], "new": {"a": 1}}
    assert namespace_variables("company.data") == {"bucket": "pond", "same": [1], "new": {"a": 1}}
    changes = sorted(
        AuditEntry.objects.filter(object_type="variable").values_list("action", "object_id")
    )
    assert changes == [("changed", "bucket"), ("created", "new"), ("deleted", "stale")]


def test_a_namespace_put_with_a_bad_variable_key_changes_nothing(api) -> None:
    NamespaceVariable.store(namespace="company.data", key="bucket", value="lake")
    body = {"variables": {"ok": 1, "not ok": 2}}
    response = put_json(api, "/api/v1/namespaces/company.data", body)
    assert response.status_code == 422
    assert response.json()["message"].startswith("In variables: The key 'not ok'")
    assert namespace_variables("company.data") == {"bucket": "lake"}


def test_a_namespace_put_for_another_id_is_refused(api) -> None:
    response = put_json(api, "/api/v1/namespaces/company.data", {"id": "company.web"})
    assert response.status_code == 422
    assert "but this is namespace company.data" in response.json()["message"]


def test_an_editor_reads_variables_but_may_not_replace_them(alice, bob, client) -> None:
    assert client.get("/api/v1/namespaces/company.data", **as_("bob")).status_code == 200
    response = put_json(client, "/api/v1/namespaces/company.data", {"variables": {}}, **as_("bob"))
    assert response.status_code == 403
