"""The Variables & secrets page: Editors read, Admins change, nobody sees a secret's value.

alice is Admin of ``company``, bob is Editor on ``company.data``, charlie has no role.
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEntry, Role, RoleBinding
from namespaces.lookup import namespace_secrets, namespace_variables
from namespaces.models import NamespaceVariable, Secret

PLAINTEXT = "pa55-w0rd-that-must-not-show"
PAGE = "/namespaces/company.data/variables/"

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def set_secret(client: Client, key: str = "DB_PASSWORD", value: str = PLAINTEXT, ns="company.data"):
    return client.post(f"/namespaces/{ns}/secrets/", {"key": key, "value": value})


def audit_text() -> str:
    return " ".join(
        f"{entry.object_id} {entry.summary} {entry.diff}" for entry in AuditEntry.objects.all()
    )


def test_an_admin_sets_a_secret_and_the_page_lists_its_key_but_never_its_value(alice) -> None:
    client = as_user(alice)
    response = set_secret(client)
    assert response.status_code == 302 and response["Location"] == PAGE
    assert namespace_secrets("company.data") == {"DB_PASSWORD": PLAINTEXT}
    page = client.get(PAGE).content.decode()
    assert "DB_PASSWORD" in page and "alice" in page
    assert PLAINTEXT not in page


def test_a_refused_secret_form_does_not_send_the_value_back(alice) -> None:
    response = set_secret(as_user(alice), key="not-a-key")
    page = response.content.decode()
    assert response.status_code == 422
    assert "may only hold letters, digits and underscores" in page
    assert PLAINTEXT not in page
    assert not Secret.objects.exists()


def test_changing_and_deleting_a_secret_is_audited_without_its_value(alice) -> None:
    client = as_user(alice)
    set_secret(client)
    set_secret(client, value="the second value")
    client.post("/namespaces/company.data/secrets/DB_PASSWORD/delete/")
    entries = list(
        AuditEntry.objects.filter(object_type="secret").values_list("action", "object_id")
    )
    assert sorted(entries) == sorted(
        [("created", "DB_PASSWORD"), ("changed", "DB_PASSWORD"), ("deleted", "DB_PASSWORD")]
    )
    assert PLAINTEXT not in audit_text() and "the second value" not in audit_text()
    assert not Secret.objects.exists()


def test_an_admin_sets_changes_and_deletes_variables_json_or_text(alice) -> None:
    client = as_user(alice)
    client.post(PAGE, {"key": "retries", "value": "3"})
    client.post(PAGE, {"key": "bucket", "value": "s3://data lake"})
    client.post(PAGE, {"key": "owners", "value": '["ann", "bo"]'})
    assert namespace_variables("company.data") == {
        "retries": 3,
        "bucket": "s3://data lake",
        "owners": ["ann", "bo"],
    }
    client.post(PAGE, {"key": "retries", "value": "5"})
    client.post("/namespaces/company.data/variables/bucket/delete/")
    assert namespace_variables("company.data") == {"retries": 5, "owners": ["ann", "bo"]}
    summaries = dict(
        AuditEntry.objects.filter(
            object_type="variable", action__in=["changed", "deleted"]
        ).values_list("object_id", "summary")
    )
    assert summaries == {"retries": "3 → 5", "bucket": "was s3://data lake"}


def test_text_that_looks_like_json_is_shown_quoted_so_saving_it_again_keeps_it_text(alice) -> None:
    NamespaceVariable.store(namespace="company.data", key="code", value="42")
    client = as_user(alice)
    assert "&quot;42&quot;</textarea>" in client.get(PAGE).content.decode()
    client.post(PAGE, {"key": "code", "value": '"42"'})
    assert namespace_variables("company.data") == {"code": "42"}


def test_a_bad_variable_key_is_refused_with_the_reason(alice) -> None:
    response = as_user(alice).post(PAGE, {"key": "2fast", "value": "x"})
    assert response.status_code == 422
    assert "may not start with a digit" in response.content.decode()


def test_an_editor_reads_variables_and_secret_keys_but_may_change_nothing(alice, bob) -> None:
    NamespaceVariable.store(namespace="company.data", key="region", value="eu-west")
    Secret.store(namespace="company.data", key="DB_PASSWORD", value=PLAINTEXT, user=alice)
    client = as_user(bob)
    page = client.get(PAGE).content.decode()
    assert "region" in page and "eu-west" in page and "DB_PASSWORD" in page
    assert PLAINTEXT not in page
    assert "Save secret" not in page and "Delete" not in page
    assert set_secret(client, value="bob's value").status_code == 403
    assert client.post(PAGE, {"key": "region", "value": "us"}).status_code == 403
    assert client.post(f"{PAGE}region/delete/").status_code == 403
    assert client.post("/namespaces/company.data/secrets/DB_PASSWORD/delete/").status_code == 403
    assert namespace_secrets("company.data") == {"DB_PASSWORD": PLAINTEXT}
    assert namespace_variables("company.data") == {"region": "eu-west"}


def test_someone_without_a_role_gets_not_found_for_everything(charlie) -> None:
    client = as_user(charlie)
    assert client.get(PAGE).status_code == 404
    assert set_secret(client).status_code == 404
    assert client.post(PAGE, {"key": "region", "value": "us"}).status_code == 404
    assert not Secret.objects.exists() and not NamespaceVariable.objects.exists()


def test_a_viewer_may_not_open_the_page(charlie) -> None:
    RoleBinding.objects.create(user=charlie, namespace="company.data", role=Role.VIEWER)
    assert as_user(charlie).get(PAGE).status_code == 403


def test_the_namespace_page_links_to_it_for_editors_only(bob, charlie) -> None:
    RoleBinding.objects.create(user=charlie, namespace="company.data", role=Role.VIEWER)
    assert (
        "Variables &amp; secrets" in as_user(bob).get("/namespaces/company.data/").content.decode()
    )
    viewer_page = as_user(charlie).get("/namespaces/company.data/").content.decode()
    assert "Variables &amp; secrets" not in viewer_page


def test_inherited_entries_are_shown_as_such_and_managed_on_their_own_namespace(alice) -> None:
    Secret.store(namespace="company", key="API_KEY", value=PLAINTEXT)
    NamespaceVariable.store(namespace="company", key="region", value="eu")
    NamespaceVariable.store(namespace="company.data", key="region", value="us")
    page = as_user(alice).get(PAGE).content.decode()
    assert "inherited" in page and "overridden" in page
    assert 'href="/namespaces/company/variables/#secrets"' in page
    assert "Delete secret API_KEY" not in page  # deleted on company's page
    assert PLAINTEXT not in page


def test_a_malformed_namespace_is_not_found_even_for_its_parents_admin(alice) -> None:
    response = set_secret(as_user(alice), ns="company.Not Valid")
    assert response.status_code == 404 and not Secret.objects.exists()
