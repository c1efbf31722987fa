"""The properties of the HTTP, log, label and purge tasks: Kestra's spellings are read,
and a malformed one is refused at save with its line and what is wrong."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.language import FlowInvalid, parse_flow
from flows.language.tasks import LabelsTask, RequestTask
from flows.language.tasks.logs import instant
from tests.flows_helpers import flow_yaml


def errors_of(tasks: str) -> list[tuple[int, str]]:
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(flow_yaml(tasks))
    return [(e.line, e.message) for e in caught.value.errors]


def test_kestras_older_and_newer_request_options_are_both_read() -> None:
    [task] = parse_flow(
        flow_yaml(
            """
  - id: call
    type: io.kestra.plugin.core.http.Request
    uri: https://example.com
    method: PATCH
    options:
      connectTimeout: PT5S
      timeout:
        readIdleTimeout: PT2M
      auth:
        type: BEARER
        token: abc
      allowedResponseCodes: [200, 409]
    sslOptions:
      insecureTrustAllCertificates: true
"""
        )
    ).tasks
    assert isinstance(task, RequestTask)
    assert task.method == "PATCH"
    assert task.options is not None and task.options.allowed_response_codes == [200, 409]
    assert task._timeouts() == (5.0, 120.0)


def test_an_unknown_http_method_is_refused_at_its_line() -> None:
    errors = errors_of(
        "  - id: call\n    type: io.kestra.plugin.core.http.Request\n"
        "    uri: https://example.com\n    method: FETCH\n"
    )
    assert len(errors) == 1 and errors[0][0] == 8
    assert "GET" in errors[0][1] and "POST" in errors[0][1]


def test_a_malformed_duration_in_the_options_is_refused_at_its_line() -> None:
    errors = errors_of(
        "  - id: call\n    type: io.kestra.plugin.core.http.Request\n"
        "    uri: https://example.com\n    options:\n      readTimeout: soon\n"
    )
    assert len(errors) == 1 and errors[0][0] == 9


def test_a_purge_needs_its_end_date() -> None:
    errors = errors_of("  - id: purge\n    type: io.kestra.plugin.core.log.PurgeLogs\n")
    assert errors == [(5, "Missing required property 'endDate'")]


def test_a_label_given_as_a_list_needs_a_key() -> None:
    errors = errors_of(
        "  - id: tag\n    type: io.kestra.plugin.core.execution.Labels\n"
        "    labels:\n      - value: orphan\n"
    )
    assert errors and all(line >= 5 for line, _ in errors)


def test_an_echo_needs_something_to_say() -> None:
    errors = errors_of('  - id: say\n    type: io.kestra.plugin.core.debug.Echo\n    format: ""\n')
    assert len(errors) == 1 and errors[0][0] == 7


@given(st.text(max_size=40))
def test_a_rendered_date_is_an_aware_instant_or_a_clear_error(text: str) -> None:
    try:
        moment = instant(text, "endDate")
    except ValueError as exc:
        assert str(exc).startswith("endDate '")
    else:
        assert moment.tzinfo is not None


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8))  # fmt: skip
def test_labels_given_as_json_text_become_text_pairs_or_a_clear_error(value: object) -> None:
    task = LabelsTask.model_validate(
        {"id": "tag", "type": "io.kestra.plugin.core.execution.Labels", "labels": json.dumps(value)}
    )
    try:
        labels = task.as_map()
    except ValueError as exc:
        assert "label" in str(exc).lower()
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
