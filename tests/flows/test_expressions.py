"""Kestra's Pebble-like expressions: the public interface, how values print, and
how a failure is named."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from flows.expressions import has_expression, is_truthy, render, render_value
from tests.flows.expression_helpers import CONTEXT, failure, r

# --- the public interface ------------------------------------------------------------


def test_text_without_expressions_comes_back_unchanged() -> None:
    text = "plain {text} with } and { braces and {# a comment #}"
    assert render(text, {}) is text


def test_has_expression_spots_prints_and_tags_only() -> None:
    assert has_expression("a {{ b }}")
    assert has_expression("{% if x %}{% endif %}")
    assert not has_expression("a { b } c")


@pytest.mark.parametrize("text", ["false", "FALSE", " False ", "0", "-0", "", "  "])
def test_is_truthy_is_false_for_kestras_false_values(text: str) -> None:
    assert not is_truthy(text)


@pytest.mark.parametrize("text", ["true", "1", "yes", "no", "0.0", "null"])
def test_is_truthy_is_true_for_anything_else(text: str) -> None:
    assert is_truthy(text)


def test_render_value_renders_strings_in_nested_dicts_and_lists_keys_included() -> None:
    value = {"{{ inputs.name }}": ["{{ inputs.count }}", {"k": "{{ flow }}"}, 7, None, True]}
    rendered = render_value(value, {**CONTEXT, "flow": "f"})
    assert rendered == {"World": ["3", {"k": "f"}, 7, None, True]}


def test_render_value_leaves_other_values_alone() -> None:
    assert render_value(42, CONTEXT) == 42
    assert render_value(None, CONTEXT) is None


def test_the_error_message_names_the_expression_and_the_reason() -> None:
    error = failure("Hello {{ inputs.nme }}!")
    assert error.expression == "{{ inputs.nme }}"
    assert error.reason == "'inputs' has no attribute 'nme'"
    assert str(error) == "Could not render '{{ inputs.nme }}': 'inputs' has no attribute 'nme'"


# --- output as Pebble prints it ------------------------------------------------------


def test_values_print_like_pebble() -> None:
    assert r("{{ inputs.enabled }} {{ false }}") == "true false"
    assert r("[{{ inputs.optional }}][{{ null }}]") == "[][]"
    assert r("{{ inputs.count }} {{ inputs.ratio }} {{ 2.0 }}") == "3 1.5 2.0"


def test_maps_and_lists_print_as_compact_json() -> None:
    assert r("{{ inputs.payload }}") == '{"a":1,"b":[1,2]}'
    assert r("{{ [true, null, 'é'] }}") == '[true,null,"é"]'
    assert json.loads(r("{{ {'when': execution.startDate} }}")) == {
        "when": "2026-11-24T10:00:00.123Z"
    }


def test_datetimes_print_as_iso_8601_instants() -> None:
    assert r("{{ execution.startDate }}") == "2026-11-24T10:00:00.123Z"
    assert render("{{ d }}", {"d": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)}) == (
        "2026-01-02T03:04:05Z"
    )
    assert render("{{ d }}", {"d": date(2026, 1, 2)}) == "2026-01-02"
    assert render("{{ d }}", {"d": timedelta(hours=1, minutes=30)}) == "PT1H30M"


def test_newlines_and_whitespace_control_follow_pebble() -> None:
    assert r("a\n{% if true %}\nb\n{% endif %}\n") == "a\n\nb\n\n"
    assert r("a  {{- 'b' -}}  c") == "abc"


# --- strictness and error reporting --------------------------------------------------


def test_an_undefined_variable_is_an_error() -> None:
    error = failure("{{ nothing }}")
    assert error.expression == "{{ nothing }}"
    assert "'nothing' is undefined" in error.reason


def test_a_missing_nested_attribute_names_its_owner() -> None:
    assert failure("{{ outputs.t1.vars.nope }}").reason == (
        "'outputs.t1.vars' has no attribute 'nope'"
    )
    assert failure("{{ outputs['t2'].vars }}").reason == "'outputs' has no attribute 't2'"


def test_the_failing_expression_is_found_among_several() -> None:
    template = "{{ inputs.name }} {{ inputs.count }} {{ inputs.missing }} {{ inputs.name }}"
    assert failure(template).expression == "{{ inputs.missing }}"


def test_a_failure_inside_a_loop_or_branch_names_that_block() -> None:
    loop = "{% for x in inputs.items %}{{ x }}{{ x.nope }}{% endfor %}"
    assert failure(loop).expression == "{{ x.nope }}"
    branch = "{% if false %}a{% elseif inputs.nope %}b{% endif %}"
    assert failure(branch).expression == "{% elseif inputs.nope %}"


def test_an_unknown_filter_is_named() -> None:
    error = failure("{{ inputs.name }} {{ inputs.name | uppr }}")
    assert error.expression == "{{ inputs.name | uppr }}"
    assert error.reason == "Unknown filter 'uppr'"


def test_an_unknown_test_is_named() -> None:
    assert failure("{{ inputs.name is nada }}").reason == "Unknown test 'nada'"


@pytest.mark.parametrize(
    ("template", "expression", "reason"),
    [
        ("a {{ 1 + }} b", "{{ 1 + }}", "expected a value but found the end of the expression"),
        ("{{ inputs.name | }}", "{{ inputs.name | }}", "expected a filter name after '|'"),
        ("{{ (1 }}", "{{ (1 }}", "expected ')'"),
        ("{{ }}", "{{ }}", "the expression is empty"),
        ("x {{ inputs.name", "{{ inputs.name", "'{{' is never closed with '}}'"),
        ("{% if %}a{% endif %}", "{% if %}", "the expression is empty"),
        ("{% include 'other' %}", "{% include 'other' %}", "unsupported tag 'include'"),
    ],
)
def test_syntax_errors_name_the_bad_expression(template: str, expression: str, reason: str) -> None:
    error = failure(template)
    assert error.expression == expression
    assert reason in error.reason


def test_an_unclosed_tag_names_the_template() -> None:
    error = failure("{% if true %}never closed")
    assert error.expression == "{% if true %}never closed"
    assert "endif" in error.reason


def test_an_error_raised_by_a_context_function_becomes_the_reason() -> None:
    def secret(name: str) -> str:
        raise LookupError(f"No secret named '{name}'")

    error = failure("{{ secret('NOPE') }}", secret=secret)
    assert error.expression == "{{ secret('NOPE') }}"
    assert "No secret named 'NOPE'" in error.reason


def test_filters_refuse_a_missing_value_instead_of_treating_it_as_empty() -> None:
    assert "'inputs' has no attribute 'nme'" in failure("{{ inputs.nme | upper }}").reason


def test_division_by_zero_is_an_error() -> None:
    assert failure("{{ 1 / 0 }}").reason == "division by zero"
