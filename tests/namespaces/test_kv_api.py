"""Kestra's KV endpoints on their tenant-less paths, as plain HTTP clients call them:
typed values, TTL, description, inheritance, bulk delete, search, and clear 400s."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils.timezone import now
from hypothesis import given, settings
from hypothesis import strategies as st

from namespaces.kv import KVError, kv_from_text, kv_key_check, kv_set, kv_typed
from namespaces.models import KeyValue
from tests.conftest import basic_auth

pytestmark = pytest.mark.django_db

BASE = "/api/v1/namespaces/company.data/kv"


def put(client: Client, key: str, body: str, **headers: str) -> Any:
    return client.put(f"{BASE}/{key}", data=body, content_type="text/plain", headers=headers)


@pytest.fixture
def bob_api(client: Client, bob: Any) -> Client:
    """bob, Editor of company.data, through HTTP Basic auth."""
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth("bob")
    return client


@pytest.mark.parametrize(
    ("body", "kv_type", "value"),
    [
        ('"hello"', "STRING", "hello"),
        ("hello world", "STRING", "hello world"),
        ("42", "NUMBER", 42),
        ("2.5", "NUMBER", 2.5),
        ("true", "BOOLEAN", True),
        ('{"a": [1, 2]}', "JSON", {"a": [1, 2]}),
        ("[1, 2]", "JSON", [1, 2]),
        ("2026-11-30T10:00:00Z", "DATETIME", "2026-11-30T10:00:00Z"),
        ("2026-11-30", "DATE", "2026-11-30"),
        ('"PT5M"', "DURATION", "PT5M"),
    ],
)
def test_a_value_put_reads_back_with_its_type(bob_api, body, kv_type, value) -> None:
    assert put(bob_api, "k", body).status_code == 200
    answer = bob_api.get(f"{BASE}/k")
    assert answer.status_code == 200
    assert answer.json()["type"] == kv_type
    assert answer.json()["value"] == value
    assert answer.json()["revision"] == 1


def test_a_second_put_replaces_the_value_and_counts_a_revision(bob_api) -> None:
    put(bob_api, "k", "1")
    put(bob_api, "k", '"two"', description="the second")
    answer = bob_api.get(f"{BASE}/k").json()
    assert (answer["type"], answer["value"], answer["revision"]) == ("STRING", "two", 2)
    [entry] = bob_api.get(BASE).json()
    assert entry["key"] == "k" and entry["namespace"] == "company.data"
    assert entry["description"] == "the second"
    assert entry["expirationDate"] is None
    assert set(entry) >= {"creationDate", "updateDate", "revision"}


def test_an_entry_past_its_ttl_reads_as_missing(bob_api) -> None:
    assert put(bob_api, "short", '"soon gone"', ttl="PT1H").status_code == 200
    [entry] = bob_api.get(BASE).json()
    assert entry["expirationDate"] is not None
    KeyValue.objects.filter(key="short").update(expires_at=now() - timedelta(seconds=1))
    assert bob_api.get(f"{BASE}/short").status_code == 404
    assert bob_api.get(BASE).json() == []
    assert bob_api.delete(f"{BASE}/short").json() is False


def test_delete_says_whether_the_key_was_there_and_bulk_delete_names_those_deleted(bob_api) -> None:
    for key in ("a", "b"):
        put(bob_api, key, "1")
    assert bob_api.delete(f"{BASE}/a").json() is True
    assert bob_api.delete(f"{BASE}/a").json() is False
    answer = bob_api.delete(BASE, data='{"keys": ["a", "b"]}', content_type="application/json")
    assert answer.json() == {"keys": ["b"]}


def test_inheritance_lists_the_parents_entries_the_nearest_winning(alice, bob_api) -> None:
    kv_set(namespace="company", key="region", typed=kv_typed("eu", None))
    kv_set(namespace="company", key="tier", typed=kv_typed("silver", None))
    put(bob_api, "tier", '"gold"')
    entries = bob_api.get(f"{BASE}/inheritance").json()
    assert [(e["key"], e["namespace"]) for e in entries] == [
        ("region", "company"),
        ("tier", "company.data"),
    ]


def test_search_lists_only_the_namespaces_the_reader_edits(alice, bob_api) -> None:
    kv_set(namespace="dev", key="alice_only", typed=kv_typed("x", None))
    kv_set(namespace="company.data", key="shared", typed=kv_typed("y", None))
    kv_set(namespace="company.data.etl", key="deeper", typed=kv_typed("z", None))
    everything = bob_api.get("/api/v1/kv").json()
    assert [e["key"] for e in everything["results"]] == ["shared", "deeper"]
    assert everything["total"] == 2
    exact = bob_api.get("/api/v1/kv", {"filters[namespace][EQUALS]": "company.data"}).json()
    assert [e["key"] for e in exact["results"]] == ["shared"]
    bad = bob_api.get("/api/v1/kv", {"filters[namespace][SOUNDS_LIKE]": "x"})
    assert bad.status_code == 400 and "SOUNDS_LIKE" in bad.json()["message"]


@pytest.mark.parametrize(
    ("key", "headers", "expected"),
    [
        ("bad key", {}, "must start with a letter or digit"),
        ("-dash", {}, "must start with a letter or digit"),
        ("ok", {"ttl": "soon"}, "The ttl header 'soon' is not an ISO-8601 duration"),
        ("ok", {"ttl": "-PT1H"}, "The ttl header '-PT1H' is not an ISO-8601 duration"),
    ],
)
def test_a_bad_key_or_ttl_is_a_400_saying_why(bob_api, key, headers, expected) -> None:
    answer = put(bob_api, key, "1", **headers)
    assert answer.status_code == 400
    assert expected in answer.json()["message"]
    assert not KeyValue.objects.exists()


def test_a_missing_key_is_a_404_naming_it(bob_api) -> None:
    answer = bob_api.get(f"{BASE}/nothing")
    assert answer.status_code == 404
    assert answer.json()["message"] == "No KV key nothing in namespace company.data"


def test_a_value_larger_than_the_bound_is_refused(bob_api) -> None:
    answer = put(bob_api, "big", '"' + "x" * (1024 * 1024 + 1) + '"')
    assert answer.status_code == 400
    assert "larger than" in answer.json()["message"]


def test_bob_cannot_touch_the_kv_store_of_company_his_parent(bob_api) -> None:
    assert put(bob_api, "k", "1").status_code == 200
    assert bob_api.get("/api/v1/namespaces/company/kv").status_code == 404
    assert (
        bob_api.put(
            "/api/v1/namespaces/company/kv/k", data="1", content_type="text/plain"
        ).status_code
        == 404
    )


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_key_is_either_refused_with_a_reason_or_safe(key: str) -> None:
    try:
        checked = kv_key_check(key)
    except KVError as exc:
        assert str(exc)
        return
    assert "/" not in checked and ".." not in checked[:2] and checked[0].isalnum()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_put_body_gets_a_type_kestra_knows(text: str) -> None:
    typed = kv_from_text(text)
    assert typed.type in {"STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON"}


@pytest.mark.parametrize("body", ['"a\\u0000b"', "a\x00b", "1e400", '"\\ud800"', '{"n": 1e999}'])
def test_a_value_no_database_can_store_is_a_400_not_a_crash(bob_api, body) -> None:
    answer = put(bob_api, "odd", body)
    assert answer.status_code in (200, 400)
    if answer.status_code == 400:
        assert "cannot be stored" in answer.json()["message"]
    else:  # kept as the text it was sent as
        assert bob_api.get(f"{BASE}/odd").json()["value"] == body
