"""Fuzzed requests to every endpoint that reads what people type: never a 500.

Django's test client runs the real views and middleware and, by default, raises what
a view raises, so a crash fails the example with its traceback. Flows are built from
valid pieces with hostile values slipped in (tags, aliases, huge numbers, deep nesting,
control characters, expressions), and sometimes cut or spliced at random, so that the
examples reach past the YAML reader into validation, the outline and saving.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flows.language.inputs import INPUT_TYPES
from flows.language.tasks import TASK_TYPES
from flows.models import Flow
from tests.conftest import basic_auth

LOG = "io.kestra.plugin.core.log.Log"

pytestmark = pytest.mark.django_db


def fuzz(examples: int) -> settings:
    """``examples`` cases; the file's total stays above 1,000 and under two minutes."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


KEY = "fuzzfuzzfuzzfuzzfuzz01"
TRIGGER_TYPES = (
    "io.kestra.plugin.core.trigger.Schedule",
    "io.kestra.plugin.core.trigger.Webhook",
    "io.kestra.plugin.core.trigger.Flow",
)
# Raw YAML values (written unquoted, so their tags and anchors count).
HOSTILE = (
    "1" * 5000,
    "-" + "9" * 4400,
    "0x" + "f" * 300,
    "1e99999",
    ".nan",
    "-.inf",
    "!!binary aGVsbG8=",
    "!!python/object/apply:os.system ['id']",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!timestamp 2024-13-45",
    "2024-02-30",
    "!custom x",
    "&a [*a]",
    "*nowhere",
    "&x [1, 2]",
    "[" * 200,
    "{" * 200,
    "[" * 90 + "]" * 90,
    '"\\0"',
    '"\\x01\\u0000"',
    "\x01",
    "\x7f",
    "\ufeff",
    "P99999999999999D",
    "PT" + "9" * 400 + "S",
    "P1DT",
    "{{ inputs.x }}",
    "'{{ range(1, 999999999) }}'",
    '\'{% for i in range(1,10) %}{{ i | replace({"(a|aa)+$": ""}, regexp=true) }}{% endfor %}\'',
    "'(a|aa)+$'",
    "'[a-'",
    "~",
    "null",
    "[]",
    "{}",
    "''",
    "yes",
    "-1",
    "? [a]\n  : b",
    "|\n    block\n    text",
    "* * * * *",
    "'99 99 99 99 99'",
    "'@yearly'",
    "0 0 31 2 *",
)
safe_text = st.text(st.characters(codec="utf-8"), max_size=40)
raw_value = st.one_of(
    st.sampled_from(HOSTILE),
    safe_text.map(json.dumps),
    st.integers().map(str),
    st.floats(allow_nan=False).map(repr),
    st.booleans().map(str),
)
property_name = st.sampled_from(
    (
        "message", "format", "script", "commands", "timeout", "retry", "inputs", "values",
        "tasks", "then", "else", "cases", "defaults", "value", "condition", "delay", "namespace",
        "flowId", "wait", "transmitFailed", "outputs", "containerImage", "taskRunner", "env",
        "inputFiles", "outputFiles", "cron", "key", "conditions", "runIf", "disabled",
        "allowFailure", "description", "beforeCommands", "concurrent", "interpreter",
    )
)  # fmt: skip


@st.composite
def yaml_task(draw: st.DrawFn, depth: int = 0) -> str:
    lines = [f"- id: {draw(st.sampled_from(('a', 'b', 'c', 'a1', 'x-y', '1', '')))}"]
    lines.append(f"  type: {draw(st.sampled_from((*TASK_TYPES, 'Nope', '[]')))}")
    for name in draw(st.lists(property_name, max_size=4, unique=True)):
        if name in ("tasks", "then", "else") and depth < 2:
            children = draw(st.lists(yaml_task(depth + 1), min_size=1, max_size=2))
            lines.append(f"  {name}:")
            lines.extend("    " + line for child in children for line in child.splitlines())
        else:
            lines.append(f"  {name}: {draw(raw_value)}")
    return "\n".join(lines)


@st.composite
def yaml_input(draw: st.DrawFn) -> str:
    lines = [
        f"- id: {draw(st.sampled_from(('n', 'doc', 'when', 'f', 'n')))}",
        f"  type: {draw(st.sampled_from((*INPUT_TYPES, 'NOPE')))}",
    ]
    for name in draw(
        st.lists(
            st.sampled_from(
                ("defaults", "required", "validator", "min", "max", "values", "itemType",
                 "minLength", "maxLength", "allowCustomValue", "displayName")
            ),
            max_size=3,
            unique=True,
        )
    ):  # fmt: skip
        lines.append(f"  {name}: {draw(raw_value)}")
    return "\n".join(lines)


def block(name: str, items: list[str]) -> str:
    if not items:
        return ""
    body = "\n".join("  " + line for item in items for line in item.splitlines())
    return f"{name}:\n{body}\n"


@st.composite
def flow_source(draw: st.DrawFn, flow_id: str | None = None) -> str:
    identity = flow_id or draw(st.sampled_from(("fuzzed", "other", "x" * 101, "", "a b")))
    namespace = draw(st.sampled_from(("dev", "dev", "dev.sub", "company", "nope", "")))
    parts = [f"id: {identity}\nnamespace: {namespace}\n"]
    for name in draw(st.lists(st.sampled_from(("description", "labels", "variables",
                                               "disabled", "concurrency", "extra")),
                              max_size=3, unique=True)):  # fmt: skip
        parts.append(f"{name}: {draw(raw_value)}\n")
    parts.append(block("inputs", draw(st.lists(yaml_input(), max_size=3))))
    parts.append(block("tasks", draw(st.lists(yaml_task(), max_size=3))))
    triggers = [
        f"- id: t\n  type: {draw(st.sampled_from(TRIGGER_TYPES))}\n"
        f"  {draw(st.sampled_from(('cron', 'key', 'conditions', 'inputs')))}: {draw(raw_value)}"
        for _ in range(draw(st.integers(0, 1)))
    ]
    parts.append(block("triggers", triggers))
    source = "".join(parts)
    mutation = draw(st.sampled_from(("none", "none", "cut", "insert", "splice")))
    if mutation == "none" or not source:
        return source
    at = draw(st.integers(0, len(source)))
    if mutation == "cut":
        return source[:at]
    if mutation == "insert":
        return source[:at] + draw(st.sampled_from(HOSTILE)) + source[at:]
    return source[:at] + draw(safe_text) + source[at:]


@st.composite
def plausible_flow(draw: st.DrawFn, flow_id: str | None = None) -> str:
    """A flow that validates more often than not: Log tasks, a few inputs and labels,
    hostile text only where free text goes, so that saving and its answer are fuzzed."""
    identity = flow_id or draw(st.sampled_from(("fuzzed", "other", "third")))
    text = st.one_of(safe_text, st.sampled_from(HOSTILE)).map(json.dumps)
    tasks = "".join(
        f"  - id: t{n}\n    type: {LOG}\n    message: {draw(text)}\n"
        + (f"    timeout: {draw(st.sampled_from(('PT1S', 'P1D', 'PT0.5S')))}\n" if n % 2 else "")
        for n in range(draw(st.integers(1, 4)))
    )
    labels = "".join(
        f"  {key}: {draw(text)}\n"
        for key in draw(st.sets(safe_text.filter(str.isalnum), max_size=2))
    )
    variables = f"variables:\n  v: {draw(raw_value)}\n" if draw(st.booleans()) else ""
    return (
        f"id: {identity}\nnamespace: dev\ndescription: {draw(text)}\n"
        + (f"labels:\n{labels}" if labels else "")
        + variables
        + f"inputs:\n  - id: x\n    type: STRING\n    defaults: {draw(text)}\n"
        + f"tasks:\n{tasks}"
    )


def assert_no_crash(response: Any, *, json_errors: bool = True) -> None:
    event(f"HTTP {response.status_code}")  # --hypothesis-show-statistics: how far they got
    assert response.status_code < 500, response.content[:500]
    if json_errors and response.status_code >= 400 and response.status_code != 404:
        assert "message" in response.json(), response.content[:500]


@pytest.fixture
def api_client(alice: Any) -> Client:
    client = Client(HTTP_AUTHORIZATION=basic_auth())
    return client


@fuzz(300)
@given(source=st.one_of(flow_source(), plausible_flow()))
def test_the_flow_api_never_answers_500(api_client: Client, source: str) -> None:
    Flow.objects.all().delete()  # each example creates anew: not a 409 for the last one's
    assert_no_crash(api_client.post("/api/v1/flows", source, content_type="application/x-yaml"))


@fuzz(150)
@given(source=st.one_of(flow_source(flow_id="kept"), plausible_flow(flow_id="kept")))
def test_updating_a_flow_never_answers_500(api_client: Client, source: str) -> None:
    if not Flow.objects.filter(flow_id="kept").exists():
        Flow.save_source(
            "id: kept\nnamespace: dev\ntasks:\n  - id: a\n    type: Log\n    message: m\n"
        )
    response = api_client.put("/api/v1/flows/dev/kept", source, content_type="application/x-yaml")
    assert_no_crash(response)


@fuzz(200)
@given(source=st.one_of(flow_source(), plausible_flow()))
def test_the_editor_check_never_answers_500(alice: Any, client: Client, source: str) -> None:
    client.force_login(alice)
    response = client.post("/flows/check/", {"source": source})
    assert response.status_code == 200, response.content[:500]
    assert set(response.json()) >= {"errors", "tasks", "sections"}


@fuzz(150)
@given(source=st.one_of(flow_source(), safe_text))
def test_the_validate_endpoint_never_answers_500(api_client: Client, source: str) -> None:
    response = api_client.post(
        "/api/v1/flows/validate", source.encode(), content_type="application/x-yaml"
    )
    assert_no_crash(response)


TYPED = """\
id: typed
namespace: dev
inputs:
  - {id: s, type: STRING, required: false, validator: "[a-z]+"}
  - {id: n, type: INT, required: false, min: 1, max: 10}
  - {id: f, type: FLOAT, required: false}
  - {id: b, type: BOOLEAN, required: false}
  - {id: d, type: DATETIME, required: false}
  - {id: w, type: DURATION, required: false}
  - {id: j, type: JSON, required: false}
  - {id: y, type: YAML, required: false}
  - {id: a, type: ARRAY, itemType: INT, required: false}
  - {id: e, type: SELECT, values: [x, y], required: false}
  - {id: m, type: MULTISELECT, values: [x, y], required: false}
  - {id: u, type: URI, required: false}
  - {id: file, type: FILE, required: false}
tasks:
  - id: hello
    type: Log
    message: "{{ inputs.s }}"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: fuzzfuzzfuzzfuzzfuzz01
"""
INPUT_IDS = ("s", "n", "f", "b", "d", "w", "j", "y", "a", "e", "m", "u", "file", "unknown")
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | safe_text | st.sampled_from(HOSTILE),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(safe_text, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture
def typed(alice: Any) -> Flow:
    return Flow.save_source(TYPED, author=alice)


@fuzz(150)
@given(
    inputs=st.dictionaries(st.sampled_from(INPUT_IDS), json_value, max_size=5),
    wrap=st.booleans(),
    deep=st.integers(0, 3000),
)
def test_json_inputs_never_answer_500(
    api_client: Client, typed: Flow, inputs: dict[str, Any], wrap: bool, deep: int
) -> None:
    body = json.dumps({"inputs": inputs} if wrap else inputs)
    if deep > 2500:  # a body nested past any parser's recursion
        body = "[" * deep * 10 + "]" * deep * 10
    response = api_client.post(
        "/api/v1/executions/dev/typed", body, content_type="application/json"
    )
    assert_no_crash(response)


@fuzz(150)
@given(
    fields=st.dictionaries(
        st.sampled_from(INPUT_IDS),
        st.one_of(safe_text, st.sampled_from(HOSTILE), st.lists(safe_text, max_size=3)),
        max_size=6,
    ),
    upload=st.one_of(st.none(), st.binary(max_size=200)),
)
def test_multipart_inputs_never_answer_500(
    api_client: Client, typed: Flow, fields: dict[str, Any], upload: bytes | None
) -> None:
    data: dict[str, Any] = dict(fields)
    if upload is not None:
        data["file"] = SimpleUploadedFile("in.bin", upload)
    response = api_client.post("/api/v1/executions/dev/typed", data)
    assert_no_crash(response)


@fuzz(150)
@given(
    body=st.one_of(json_value.map(json.dumps), safe_text, st.binary(max_size=200)),
    content_type=st.sampled_from(("application/json", "text/plain", "application/x-yaml")),
    query=st.dictionaries(st.sampled_from(("a", "b", "x y")), safe_text, max_size=3),
)
def test_the_webhook_never_answers_500(
    client: Client, typed: Flow, body: Any, content_type: str, query: dict[str, str]
) -> None:
    response = client.post(
        f"/api/v1/executions/webhook/dev/typed/{KEY}?{urlencode(query)}",
        body,
        content_type=content_type,
    )
    assert_no_crash(response)
