"""DELETE /api/v1/flows/{namespace}/{id} deletes a flow."""

from __future__ import annotations

from typing import Any

from flows.models import Flow
from tests.api.flows.conftest import HELLO, HELLO_YAML_V2, post_yaml, put_yaml
from tests.conftest import basic_auth


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
