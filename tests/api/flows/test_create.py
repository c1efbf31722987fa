"""POST /api/v1/flows creates a flow from YAML, kept verbatim, or says what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from flows.models import Flow, FlowRevision
from tests.api.flows.conftest import (
    BROKEN_YAML,
    FLOWS,
    HELLO,
    HELLO_YAML,
    HELLO_YAML_V2,
    INVALID_FLOW,
    nothing_is_saved,
    post_yaml,
)
from tests.conftest import basic_auth


def test_it_creates_a_flow_and_answers_with_its_json(api: Any, alice: Any) -> None:
    response = post_yaml(api, FLOWS, HELLO_YAML)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "hello"
    assert body["namespace"] == "dev"
    assert body["revision"] == 1
    assert body["deleted"] is False
    assert body["tasks"] == [
        {"id": "greet", "type": "io.kestra.plugin.core.log.Log", "message": "Hello"}
    ]
    assert FlowRevision.objects.get().author == alice


def test_it_keeps_the_source_verbatim_with_its_comments(api: Any) -> None:
    body = post_yaml(api, FLOWS, HELLO_YAML).json()

    assert body["source"] == HELLO_YAML
    assert api.get(HELLO).json()["source"] == HELLO_YAML


def test_it_returns_the_description_and_labels_of_the_flow(api: Any) -> None:
    source = HELLO_YAML.replace(
        "namespace: dev\n", "namespace: dev\ndescription: Greets\nlabels:\n  team: data\n"
    )

    body = post_yaml(api, FLOWS, source).json()

    assert body["description"] == "Greets"
    assert body["labels"] == [{"key": "team", "value": "data"}]


def test_it_refuses_broken_yaml_and_says_where(api: Any) -> None:
    response = post_yaml(api, FLOWS, BROKEN_YAML)

    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith("Invalid flow: line 6, column 16")
    [error] = body["errors"]
    assert error["line"] == 6
    assert error["column"] == 16
    assert "mapping values are not allowed" in error["message"]
    assert nothing_is_saved()


def test_it_refuses_an_invalid_flow_and_lists_every_error_with_its_place(api: Any) -> None:
    response = post_yaml(api, FLOWS, INVALID_FLOW)

    assert response.status_code == 422
    body = response.json()
    assert body["message"].endswith("(and 1 more)")
    assert [(e["message"], e["line"], e["column"]) for e in body["errors"]] == [
        ("Missing required property 'message'", 4, 5),
        ("Unknown property 'mesage'", 7, 5),
    ]
    assert nothing_is_saved()


def test_it_points_at_the_value_of_a_bad_namespace(api: Any) -> None:
    response = post_yaml(api, FLOWS, HELLO_YAML.replace("namespace: dev", "namespace: Dev!"))

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["message"].startswith("Invalid namespace 'Dev!'")
    assert (error["line"], error["column"]) == (3, 12)
    assert nothing_is_saved()


def test_it_refuses_yaml_that_is_not_a_mapping(api: Any) -> None:
    response = post_yaml(api, FLOWS, "- id: hello\n- namespace: dev\n")

    assert response.status_code == 422
    assert response.json()["errors"][0]["message"].startswith("A flow must be a YAML mapping")
    assert nothing_is_saved()


def test_it_refuses_a_flow_that_already_exists(api: Any, hello: Flow) -> None:
    response = post_yaml(api, FLOWS, HELLO_YAML_V2)

    assert response.status_code == 409
    assert "dev.hello already exists" in response.json()["message"]
    hello.refresh_from_db()
    assert hello.revision == 1
    assert hello.source == HELLO_YAML
    assert FlowRevision.objects.count() == 1


def test_it_creates_a_deleted_flow_again_with_its_history_kept(api: Any, hello: Flow) -> None:
    assert api.delete(HELLO).status_code == 204

    response = post_yaml(api, FLOWS, HELLO_YAML_V2)

    assert response.status_code == 200
    assert response.json()["revision"] == 2
    assert api.get(HELLO).json()["source"] == HELLO_YAML_V2


@pytest.mark.parametrize("body", ["", "   \n\n  "], ids=["empty", "blank"])
def test_it_refuses_an_empty_body(api: Any, body: str) -> None:
    response = post_yaml(api, FLOWS, body)

    assert response.status_code == 400
    assert "empty" in response.json()["message"]
    assert nothing_is_saved()


def test_it_refuses_a_body_that_is_not_utf8(api: Any) -> None:
    response = post_yaml(api, FLOWS, HELLO_YAML.replace("Hello", "Hallo \xe9").encode("latin-1"))

    assert response.status_code == 400
    assert "UTF-8" in response.json()["message"]
    assert nothing_is_saved()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        basic_auth(password="wrong password"),
        basic_auth(username="nobody"),
        "Basic not base64!",
        "Basic \u00e9\u00e9\u00e9",
    ],
    ids=["none", "wrong-password", "unknown-user", "garbled", "not-ascii"],
)
def test_it_asks_for_basic_credentials_and_saves_nothing(
    client: Any, alice: Any, authorization: str | None
) -> None:
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = post_yaml(client, FLOWS, HELLO_YAML, **extra)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Flowsite"'
    assert "HTTP Basic" in response.json()["message"]
    assert nothing_is_saved()


def test_it_refuses_a_deactivated_user(client: Any, alice: Any) -> None:
    get_user_model().objects.filter(pk=alice.pk).update(is_active=False)

    response = post_yaml(client, FLOWS, HELLO_YAML, HTTP_AUTHORIZATION=basic_auth())

    assert response.status_code == 401
    assert nothing_is_saved()


def test_a_browser_session_is_not_enough_without_basic_auth(client: Any, alice: Any) -> None:
    # The API authenticates every request itself: a browser session is not enough.
    client.force_login(alice)

    response = post_yaml(client, FLOWS, HELLO_YAML)

    assert response.status_code == 401
    assert nothing_is_saved()


def test_it_accepts_a_password_that_contains_a_colon(client: Any, alice: Any) -> None:
    alice.set_password("with:colon")
    alice.save()

    response = post_yaml(
        client, FLOWS, HELLO_YAML, HTTP_AUTHORIZATION=basic_auth(password="with:colon")
    )

    assert response.status_code == 200


def test_it_answers_405_to_a_get_of_the_flow_list(api: Any) -> None:
    response = api.get(FLOWS)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "GET" in response.json()["message"]
