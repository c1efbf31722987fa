"""PUT /api/v1/flows/{namespace}/{id} saves a new revision of a flow."""

from __future__ import annotations

from typing import Any

import pytest

from flows.models import Flow, FlowRevision
from tests.api.flows.conftest import (
    BROKEN_YAML,
    HELLO,
    HELLO_YAML,
    HELLO_YAML_V2,
    INVALID_FLOW,
    nothing_is_saved,
    put_yaml,
)
from tests.conftest import basic_auth


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
