"""Kestra's flow endpoints: POST /api/v1/flows and GET|PUT|DELETE /api/v1/flows/{ns}/{id}."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from flows.models import Flow, FlowRevision
from tests.conftest import basic_auth

FLOWS = "/api/v1/flows"
HELLO = "/api/v1/flows/dev/hello"

# Comments, blank lines and key order are part of what the user wrote.
HELLO_YAML = """\
# Says hello.
id: hello
namespace: dev

tasks:
  - id: greet   # the only task
    type: io.kestra.plugin.core.log.Log
    message: Hello
"""

HELLO_YAML_V2 = HELLO_YAML.replace("message: Hello", "message: Hello again")

# Line 6, column 16: the second colon of "message: hi: there".
BROKEN_YAML = """\
id: hello
namespace: dev
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: hi: there
"""

# Valid YAML, but the task has a misspelt property and lacks the one it needs.
INVALID_FLOW = """\
id: hello
namespace: dev
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    # "message" is misspelt below
    mesage: Hello
"""


@pytest.fixture
def hello(alice: Any) -> Flow:
    return Flow.save_source(HELLO_YAML, author=alice)


def post_yaml(client: Any, path: str, body: str | bytes, **extra: Any) -> Any:
    return client.post(path, data=body, content_type="application/x-yaml", **extra)


def put_yaml(client: Any, path: str, body: str | bytes, **extra: Any) -> Any:
    return client.put(path, data=body, content_type="application/x-yaml", **extra)


def nothing_is_saved() -> bool:
    return not Flow.objects.exists() and not FlowRevision.objects.exists()


# --- POST /api/v1/flows ---------------------------------------------------------------


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


# --- GET /api/v1/flows/{namespace}/{id} -----------------------------------------------


def test_it_returns_a_flow(api: Any, hello: Flow) -> None:
    response = api.get(HELLO)

    assert response.status_code == 200
    body = response.json()
    assert (body["namespace"], body["id"], body["revision"]) == ("dev", "hello", 1)
    assert body["source"] == HELLO_YAML


@pytest.mark.parametrize("path", ["/api/v1/flows/dev/nope", "/api/v1/flows/prod/hello"])
def test_it_answers_404_for_a_flow_that_does_not_exist(api: Any, hello: Flow, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 404
    assert "not found" in response.json()["message"]


def test_reading_a_flow_needs_credentials(client: Any, hello: Flow) -> None:
    response = client.get(HELLO)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Flowsite"'


# --- PUT /api/v1/flows/{namespace}/{id} -----------------------------------------------


def test_it_saves_a_new_revision(api: Any, hello: Flow, alice: Any) -> None:
    response = put_yaml(api, HELLO, HELLO_YAML_V2)

    assert response.status_code == 200
    body = response.json()
    assert body["revision"] == 2
    assert body["source"] == HELLO_YAML_V2
    assert body["tasks"][0]["message"] == "Hello again"
    assert FlowRevision.objects.filter(flow=hello).count() == 2
    assert api.get(HELLO).json()["revision"] == 2


def test_it_keeps_every_revision_readable(api: Any, hello: Flow) -> None:
    put_yaml(api, HELLO, HELLO_YAML_V2)

    sources = dict(FlowRevision.objects.filter(flow=hello).values_list("revision", "source"))

    assert sources == {1: HELLO_YAML, 2: HELLO_YAML_V2}


def test_saving_the_same_yaml_makes_no_new_revision(api: Any, hello: Flow) -> None:
    response = put_yaml(api, HELLO, HELLO_YAML)

    assert response.status_code == 200
    assert response.json()["revision"] == 1
    assert FlowRevision.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "line", "column"),
    [(BROKEN_YAML, 6, 16), (INVALID_FLOW, 4, 5)],
    ids=["broken-yaml", "invalid-flow"],
)
def test_it_refuses_an_invalid_update_and_keeps_the_flow_as_it_was(
    api: Any, hello: Flow, body: str, line: int, column: int
) -> None:
    response = put_yaml(api, HELLO, body)

    assert response.status_code == 422
    first = response.json()["errors"][0]
    assert (first["line"], first["column"]) == (line, column)
    current = api.get(HELLO).json()
    assert current["revision"] == 1
    assert current["source"] == HELLO_YAML
    assert FlowRevision.objects.count() == 1


@pytest.mark.parametrize(
    "moved",
    [
        HELLO_YAML_V2.replace("id: hello", "id: other"),
        HELLO_YAML_V2.replace("namespace: dev", "namespace: prod"),
    ],
    ids=["other-id", "other-namespace"],
)
def test_it_refuses_yaml_that_would_move_the_flow(api: Any, hello: Flow, moved: str) -> None:
    response = put_yaml(api, HELLO, moved)

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["message"].startswith("This flow is dev.hello")
    assert (error["line"], error["column"]) == (1, 1)
    assert api.get(HELLO).json()["source"] == HELLO_YAML
    assert list(Flow.objects.values_list("namespace", "flow_id")) == [("dev", "hello")]
    assert FlowRevision.objects.count() == 1


def test_it_answers_404_to_an_update_of_a_missing_flow(api: Any) -> None:
    response = put_yaml(api, HELLO, HELLO_YAML)

    assert response.status_code == 404
    assert nothing_is_saved()


def test_it_refuses_an_update_with_an_empty_body(api: Any, hello: Flow) -> None:
    response = put_yaml(api, HELLO, "")

    assert response.status_code == 400
    assert api.get(HELLO).json()["source"] == HELLO_YAML


def test_updating_a_flow_needs_credentials(client: Any, hello: Flow) -> None:
    response = put_yaml(client, HELLO, HELLO_YAML_V2, HTTP_AUTHORIZATION=basic_auth(password="x"))

    assert response.status_code == 401
    hello.refresh_from_db()
    assert hello.revision == 1


# --- DELETE /api/v1/flows/{namespace}/{id} --------------------------------------------


def test_it_deletes_a_flow(api: Any, hello: Flow) -> None:
    response = api.delete(HELLO)

    assert response.status_code == 204
    assert response.content == b""
    assert api.get(HELLO).status_code == 404
    assert put_yaml(api, HELLO, HELLO_YAML_V2).status_code == 404
    assert api.delete(HELLO).status_code == 404


def test_deleting_a_flow_needs_credentials(client: Any, hello: Flow) -> None:
    assert client.delete(HELLO).status_code == 401
    assert client.get(HELLO, HTTP_AUTHORIZATION=basic_auth()).status_code == 200


def test_it_answers_405_to_a_post_on_a_flow(api: Any, hello: Flow) -> None:
    response = post_yaml(api, HELLO, HELLO_YAML_V2)

    assert response.status_code == 405
    assert response["Allow"] == "GET, PUT, DELETE"
    assert api.get(HELLO).json()["revision"] == 1


def test_validate_reports_errors_with_line_and_column_and_saves_nothing(api: Any) -> None:
    broken = "id: x\nnamespace: dev\ntasks:\n  - id: a\n    type: Nope\n"
    response = api.post("/api/v1/flows/validate", data=broken, content_type="application/x-yaml")
    assert response.status_code == 200
    [result] = response.json()
    assert result["errors"] == [
        {"message": "Unknown task type 'Nope'", "line": 5, "column": 11, "path": "tasks[0].type"}
    ]
    assert not Flow.objects.exists()


def test_validate_accepts_a_valid_flow(api: Any) -> None:
    response = api.post(
        "/api/v1/flows/validate", data=HELLO_YAML, content_type="application/x-yaml"
    )
    [result] = response.json()
    assert (result["flow"], result["namespace"], result["errors"]) == ("hello", "dev", [])
    assert not Flow.objects.exists()
