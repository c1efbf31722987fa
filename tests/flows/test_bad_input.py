"""Hostile input gets a clear 4xx naming what is wrong and where, quickly: never a 500,
a hang, or a server that grows by gigabytes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client

from executions.models import State
from flows.expressions import ExpressionError, render, render_bounds
from flows.models import Flow
from tests.flows_helpers import run_here, save_flow

pytestmark = pytest.mark.django_db

LOG = "io.kestra.plugin.core.log.Log"
LAUGHS = """\
id: laughs
namespace: dev
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
"""
INPUTS_FLOW = f"""\
id: typed
namespace: dev
inputs:
  - id: doc
    type: YAML
    required: false
  - id: data
    type: JSON
    required: false
  - id: code
    type: STRING
    required: false
    validator: "(a|aa)+$"
  - id: wait
    type: DURATION
    required: false
tasks:
  - id: hello
    type: {LOG}
    message: hi
"""


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """At most ``seconds`` of this thread's CPU (the test client runs the view in it):
    wall time on a machine shared by several test runs says little."""
    started, cpu = time.monotonic(), time.thread_time()
    yield
    assert time.thread_time() - cpu < seconds, f"took more than {seconds} s of CPU"
    assert time.monotonic() - started < 10 * seconds, "took ten times longer than allowed"


def flow_with(**top: str) -> str:
    extra = "".join(f"{key}: {value}\n" for key, value in top.items())
    return f"id: bad\nnamespace: dev\n{extra}tasks:\n  - id: a\n    type: {LOG}\n    message: m\n"


def post_flow(api: Client, source: str) -> Any:
    return api.post("/api/v1/flows", source, content_type="application/x-yaml")


@pytest.fixture
def typed_flow(alice: Any) -> Flow:
    return Flow.save_source(INPUTS_FLOW, author=alice)


def test_billion_laughs_sent_to_the_flow_api_is_refused_at_its_alias(api: Client) -> None:
    with within(2):
        response = post_flow(api, LAUGHS)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert "alias *" in error["message"] and "values" in error["message"]
    assert error["line"] in range(5, 12)
    assert not Flow.objects.exists()


def test_billion_laughs_in_the_editor_check_names_its_line(alice: Any, client: Client) -> None:
    client.force_login(alice)
    with within(2):
        response = client.post("/flows/check/", {"source": LAUGHS})
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert "alias *" in error["message"] and error["line"] in range(5, 12)


def test_billion_laughs_to_the_validate_endpoint_is_a_located_error(api: Client) -> None:
    with within(2):
        response = api.post("/api/v1/flows/validate", LAUGHS, content_type="application/x-yaml")
    assert response.status_code == 200
    assert "alias *" in response.json()[0]["constraints"]


def test_billion_laughs_as_a_yaml_input_is_refused_naming_the_input(
    api: Client, typed_flow: Flow
) -> None:
    body = LAUGHS.split("tasks:")[0]
    with within(2):
        response = api.post("/api/v1/executions/dev/typed", {"doc": body})
    assert response.status_code == 422
    message = response.json()["errors"]["doc"]
    assert message.startswith("Input 'doc' must be valid YAML") and "alias *" in message
    assert "line " in message


def test_a_recursive_alias_is_refused(api: Client) -> None:
    response = post_flow(api, flow_with(loop="&x [*x]"))
    assert response.status_code == 422
    assert "contains it" in response.json()["message"]


def test_a_catastrophic_validator_is_cut_off_within_about_a_second(
    api: Client, typed_flow: Flow
) -> None:
    with within(2.5):  # one second of matching, then the answer
        response = api.post("/api/v1/executions/dev/typed", {"code": "a" * 5000 + "!"})
    assert response.status_code == 422
    message = response.json()["errors"]["code"]
    assert "(a|aa)+$" in message and "stopped" in message


def test_a_validator_that_does_not_compile_is_refused_at_save(api: Client) -> None:
    source = INPUTS_FLOW.replace('"(a|aa)+$"', '"(unclosed"')
    response = post_flow(api, source)
    assert response.status_code == 422
    assert "regular expression" in response.json()["message"]


def test_a_5000_digit_integer_is_a_located_error(api: Client) -> None:
    response = post_flow(api, flow_with(big="1" * 5000))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert "4300 digits" in error["message"]
    assert (error["line"], error["column"]) == (3, 6)


def test_a_5000_digit_integer_in_a_json_input_is_refused(api: Client, typed_flow: Flow) -> None:
    response = api.post("/api/v1/executions/dev/typed", {"data": "[" + "7" * 5000 + "]"})
    assert response.status_code == 422
    assert "4300 digits" in response.json()["errors"]["data"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [("!!binary aGVsbG8=", "!!binary"), ("!!python/object:os.system x", "!!python/object")],
)
def test_tags_that_build_more_than_plain_values_are_refused(
    api: Client, value: str, shown: str
) -> None:
    response = post_flow(api, flow_with(blob=value))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert shown in error["message"] and (error["line"], error["column"]) == (3, 7)


def test_a_huge_duration_is_a_clear_error(api: Client, typed_flow: Flow) -> None:
    source = flow_with().replace("message: m", "message: m\n    timeout: P99999999999999D")
    response = post_flow(api, source)
    assert response.status_code == 422
    assert "longest duration" in response.json()["message"]
    response = api.post("/api/v1/executions/dev/typed", {"wait": "PT" + "9" * 400 + "S"})
    assert response.status_code == 422
    assert "longest duration" in response.json()["errors"]["wait"]


def test_deeply_nested_json_inputs_are_refused_with_where(api: Client, typed_flow: Flow) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = api.post(
        "/api/v1/executions/dev/typed", json.dumps({"data": deep}), content_type="application/json"
    )
    assert response.status_code == 422
    assert "nested more than" in response.json()["errors"]["data"]
    response = api.post("/api/v1/executions/dev/typed", deep, content_type="application/json")
    assert response.status_code == 400
    assert "nested more than" in response.json()["message"]


def test_deeply_nested_yaml_is_a_located_error(api: Client) -> None:
    response = post_flow(api, flow_with(deep="[" * 5000))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert "nested more than" in error["message"] and error["line"] == 3


@pytest.mark.parametrize(("text", "what"), [("\x01", "U+0001"), ('"a\\0b"', "NUL")])
def test_control_characters_in_yaml_are_located(api: Client, text: str, what: str) -> None:
    response = post_flow(api, flow_with(odd=text))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert what in error["message"] and error["line"] == 3


def test_a_nul_character_in_an_input_is_refused_not_stored(api: Client, typed_flow: Flow) -> None:
    response = api.post(
        "/api/v1/executions/dev/typed",
        json.dumps({"data": {"a": "x\u0000y"}}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["message"]


def test_an_oversized_api_body_gets_413_in_json(api: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_flow(api, flow_with(description="x" * 2000))
    assert response.status_code == 413
    assert "larger than the limit of 1000 bytes" in response.json()["message"]


def test_an_oversized_form_gets_413_as_a_page(alice: Any, client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(alice)
    response = client.post("/flows/check/", {"source": "x" * 2000})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert b"larger than the limit" in response.content


def test_a_catastrophic_replace_fails_its_expression_within_about_a_second() -> None:
    template = "{{ text | replace({'(a|aa)+$': ''}, regexp=true) }}"
    with within(2.5), pytest.raises(ExpressionError, match="was stopped"):
        render(template, {"text": "a" * 5000 + "!"})


def test_a_render_that_would_run_for_long_stops_at_the_task_timeout() -> None:
    # Each step is a regular expression cut off after a second: a thousand of them
    # would hold a worker for a quarter of an hour without the render's deadline.
    template = (
        "{% for i in range(1, 1000) %}"
        "{{ text | replace({'(a|aa)+$': ''}, regexp=true) ?? '' }}{% endfor %}"
    )
    with within(4), render_bounds(1.5), pytest.raises(ExpressionError) as caught:
        render(template, {"text": "a" * 5000 + "!"})
    assert "stopped" in str(caught.value)


def test_a_render_stops_when_its_execution_is_killed() -> None:
    asked = []

    def killed() -> bool:
        asked.append(time.monotonic())
        return True

    # A thousand steps of some milliseconds each: seconds of work, stopped at the first ask.
    template = (
        "{% for i in range(1, 1000) %}"
        "{{ text | replace({'(a|aa)+$': ''}, regexp=true) }}{% endfor %}"
    )
    started = time.monotonic()
    with render_bounds(None, should_stop=killed), pytest.raises(ExpressionError) as caught:
        render(template, {"text": "a" * 22 + "!"})
    assert "being killed" in str(caught.value)
    assert len(asked) == 1 and asked[0] - started < 1.5


def test_a_worker_rendering_a_catastrophic_loop_fails_the_task_at_its_timeout() -> None:
    # The case: ``replace`` with such a pattern held a worker past the task's
    # timeout. Here the worker's own job runs it (in this process) and gives up in time.
    source = f"""\
id: spinning
namespace: dev
tasks:
  - id: spin
    type: {LOG}
    timeout: PT2S
    message: "{{% for i in range(1, 1000) %}}{{{{ 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' | replace({{'(a|aa)+$': ''}}, regexp=true) }}}}{{% endfor %}}"
"""
    with within(5):
        execution = run_here(save_flow(source))
    spin = execution.task_runs.get(task_id="spin")
    assert (execution.state, spin.state) == (State.FAILED, State.FAILED)
    assert "timeout of 2 s" in spin.error and "stopped" in spin.error


def test_numbers_past_a_double_are_refused_not_stored(api: Client, alice: Any) -> None:
    Flow.save_source(
        "id: numbers\nnamespace: dev\ninputs:\n  - {id: f, type: FLOAT}\n"
        f"tasks:\n  - id: a\n    type: {LOG}\n    message: m\n",
        author=alice,
    )
    url = "/api/v1/executions/dev/numbers"
    response = api.post(url, '{"f": 1e400}', content_type="application/json")
    assert response.status_code == 400 and "too large" in response.json()["message"]
    response = api.post(url, json.dumps({"f": 10**400}), content_type="application/json")
    assert response.status_code == 422 and "double" in response.json()["errors"]["f"]
