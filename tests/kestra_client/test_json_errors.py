"""Under /api every answer a client gets is JSON, in Kestra's shape ``{"message": ...}``:
unknown paths, wrong methods, bad bodies, refusals and anything unexpected, never one of
Django's HTML pages and never a 500 for what a client sent.

Django's test client runs the real middleware and views; it is told not to raise a
view's exception, so that what a client would receive is what is checked."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.models import Flow
from tests.conftest import basic_auth

pytestmark = pytest.mark.django_db

SEGMENTS = (
    "main",
    "other",
    "flows",
    "executions",
    "logs",
    "namespaces",
    "search",
    "validate",
    "distinct-namespaces",
    "dev",
    "hello",
    "actions",
    "kill",
    "restart",
    "replay",
    "resume",
    "follow",
    "download",
    "file",
    "metas",
    "secrets",
    "inherited-variables",
    "triggers",
    "webhook",
    "plugins",
    "schemas",
    "flow",
    "kv",
    "files",
    "%00",
    "..",
    "é",
    "a" * 300,
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HELLO = """\
id: hello
namespace: dev
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


@pytest.fixture
def hello(alice: Any) -> Flow:
    return Flow.save_source(HELLO)


def client(auth: str | None = basic_auth()) -> Client:
    made = Client(raise_request_exception=False)
    if auth:
        made.defaults["HTTP_AUTHORIZATION"] = auth
    return made


def assert_json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    return body


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    segments=st.lists(
        st.one_of(st.sampled_from(SEGMENTS), st.text(min_size=1, max_size=12)), max_size=6
    ),
    method=st.sampled_from(METHODS),
    body=st.one_of(st.just(b""), st.binary(max_size=200), st.just(b'{"inputs": 1')),
    signed_in=st.booleans(),
)
def test_any_request_under_api_is_answered_in_json_and_never_500(
    hello: Flow, segments: list[str], method: str, body: bytes, signed_in: bool
) -> None:
    path = "/api/v1/" + "/".join(segments)
    caller = client() if signed_in else client(None)

    response = caller.generic(method, path, body, content_type="application/json")

    assert response.status_code < 500, (path, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), path
        assert "message" in response.json()


def test_an_unknown_path_is_a_json_404(alice: Any) -> None:
    body = assert_json_error(client().get("/api/v1/main/nothing/here"), 404)
    assert "/api/v1/main/nothing/here" in body["message"]
    assert_json_error(client().get("/api/nowhere"), 404)


def test_only_the_tenant_main_is_served(alice: Any) -> None:
    refused = assert_json_error(client().get("/api/v1/acme/flows/search"), 404)
    assert refused["message"] == "Tenant 'acme' not found: Flowsite's only tenant is 'main'"
    assert client().get("/api/v1/main/flows/search").status_code == 200
    assert client().get("/api/v1/flows/search").status_code == 200
    # A tenant-less path is never taken for a tenant: POST-only /flows answers 405.
    assert_json_error(client().get("/api/v1/flows"), 405)


def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(hello: Flow) -> None:
    response = client().patch("/api/v1/main/flows/dev/hello")
    assert_json_error(response, 405)
    assert response["Allow"] == "GET, PUT, DELETE"
    # A view that is not one of the REST endpoints' answers 405 in JSON too.
    assert_json_error(client().post("/api/v1/plugins/schemas/flow"), 405)


def test_a_body_that_is_not_json_is_a_json_400(hello: Flow) -> None:
    response = client().post(
        "/api/v1/main/executions/dev/hello", b'{"inputs": ', content_type="application/json"
    )
    body = assert_json_error(response, 400)
    assert "JSON" in body["message"]


def test_a_flow_that_is_not_valid_is_a_json_422(alice: Any) -> None:
    response = client().post(
        "/api/v1/main/flows", "id: x\nnamespace: dev\n", content_type="application/x-yaml"
    )
    assert_json_error(response, 422)


def test_no_credentials_is_a_json_401_and_no_right_a_json_403_or_404(
    hello: Flow, bob: Any, charlie: Any
) -> None:
    assert_json_error(client(None).get("/api/v1/main/flows/dev/hello"), 401)
    assert_json_error(client(basic_auth("charlie")).get("/api/v1/main/flows/dev/hello"), 404)
    Flow.save_source(HELLO.replace("namespace: dev", "namespace: company.data"))
    refused = client(basic_auth("bob")).delete("/api/v1/main/namespaces/company.data/secrets/X")
    assert_json_error(refused, 403)


def test_an_unexpected_error_is_a_json_500_without_a_traceback(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug of ours: secret detail")

    # A real bug stands in for one: the flow schema cannot be built.
    monkeypatch.setattr("flows.api.flow_schema", broken)

    body = assert_json_error(client().get("/api/v1/main/plugins/schemas/flow"), 500)
    assert "secret detail" not in body["message"]
