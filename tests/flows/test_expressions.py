from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from flows.expressions import (
    ExpressionError,
    has_expression,
    is_truthy,
    render,
    render_value,
)

CONTEXT: dict[str, Any] = {
    "inputs": {
        "name": "World",
        "optional": None,
        "count": 3,
        "ratio": 1.5,
        "enabled": True,
        "items": [3, 1, 2],
        "payload": {"a": 1, "b": [1, 2]},
        "when": "2026-11-24T10:00:00.123Z",
    },
    "vars": {"greeting": "Hello {{ inputs.name }}", "nested": "{{ vars.greeting }}!"},
    "execution": {"id": "exec1", "startDate": datetime(2026, 11, 24, 10, 0, 0, 123000, UTC)},
    "outputs": {"t1": {"vars": {"k": "v"}, "outputFiles": {"f.csv": "kestra:///f.csv"}}},
    "secret": lambda name: f"secret-of-{name}",
}


def r(template: str, **extra: Any) -> str:
    return render(template, {**CONTEXT, **extra})


def failure(template: str, **extra: Any) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        r(template, **extra)
    return caught.value


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


# --- the sandbox ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ''.__class__.mro() }}",
        "{{ inputs.__dict__ }}",
        "{{ inputs.__class__ }}",
        "{{ secret.__globals__ }}",
        "{{ secret.__init__.__globals__['os'] }}",
        "{{ inputs['__class__'] }}",
        "{{ inputs.items.__len__() }}",
    ],
)
def test_python_internals_are_out_of_reach(template: str) -> None:
    assert "unsafe" in failure(template).reason


def test_methods_of_values_cannot_be_called() -> None:
    # str.ljust and friends would let a template allocate gigabytes; only filters are callable.
    assert "unsafe" in failure("{{ 'x'.ljust(1000000000) }}").reason
    assert "unsafe" in failure("{{ 'x{0}'.format(inputs) }}").reason
    assert "has no attribute 'keys'" in failure("{{ inputs.payload.keys() }}").reason


def test_a_map_key_wins_over_a_dict_method_of_the_same_name() -> None:
    assert render("{{ m.items }} {{ m.keys }}", {"m": {"items": "i", "keys": "k"}}) == "i k"


@pytest.mark.parametrize(
    "template",
    [
        "{{ open('/etc/passwd') }}",
        "{{ __import__('os') }}",
        "{{ import('os') }}",
        "{% import 'os' as os %}",
        "{% include '/etc/passwd' %}",
        "{{ eval('1') }}",
        "{{ lipsum() }}",
        "{{ cycler }}",
    ],
)
def test_no_file_network_or_import_is_reachable(template: str) -> None:
    failure(template)


def test_range_is_capped() -> None:
    assert "more than the limit" in failure("{{ range(0, 1000000000) }}").reason
    assert "more than the limit" in failure("{{ 0..1000000000 }}").reason


def test_output_size_is_capped() -> None:
    template = "{% for i in range(1, 20000) %}{{ big }}{% endfor %}"
    assert "larger than" in failure(template, big="x" * 1000).reason


def test_concatenation_cannot_grow_past_the_cap() -> None:
    template = "{{ big ~ big ~ big ~ big ~ big ~ big ~ big ~ big ~ big ~ big ~ big }}"
    assert "larger than" in failure(template, big="x" * 1_000_000).reason


def test_string_repetition_is_not_arithmetic() -> None:
    assert "needs two numbers" in failure("{{ 'x' * 1000000000 }}").reason


def test_work_without_output_is_capped() -> None:
    template = "{% for a in range(1, 2000) %}{% for b in range(1, 2000) %}{% endfor %}{% endfor %}"
    assert "loop steps and calls" in failure(template).reason


def test_a_macro_calling_itself_forever_is_stopped() -> None:
    template = "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"
    failure(template)


def test_render_calling_itself_is_stopped() -> None:
    looping = {"vars": {"a": "{{ render(vars.a) }}"}}
    failure("{{ render(vars.a) }}", **looping)


def test_a_callable_from_the_context_can_be_called() -> None:
    assert r("{{ secret('TOKEN') }}") == "secret-of-TOKEN"
    assert render("{{ read(uri) | upper }}", {"read": lambda uri: f"<{uri}>", "uri": "u"}) == "<U>"


# --- Pebble syntax -------------------------------------------------------------------


def test_null_coalescing_falls_back_on_null_or_undefined() -> None:
    assert r("{{ inputs.optional ?? 'd' }}") == "d"
    assert r("{{ inputs.absent ?? 'd' }}") == "d"
    assert r("{{ trigger.body.field ?? 'd' }}") == "d"
    assert r("{{ inputs.name ?? 'd' }}") == "World"
    assert r("{{ inputs.absent ?? inputs.optional ?? 'third' }}") == "third"


def test_null_coalescing_binds_tighter_than_a_filter_like_pebble() -> None:
    assert r("{{ inputs.absent ?? '2026-01-02T00:00:00Z' | date('yyyy') }}") == "2026"
    assert r("{{ inputs.when ?? now() | date('yyyy-MM-dd') }}") == "2026-11-24"


def test_undefined_coalescing_falls_back_only_when_undefined() -> None:
    assert r("{{ inputs.absent ??? 'd' }}") == "d"
    assert r("[{{ inputs.optional ??? 'd' }}]") == "[]"
    assert r("{{ (inputs.optional ??? 'd') ?? 'other' }}") == "other"


def test_operators_inside_quotes_are_left_alone() -> None:
    assert r("{{ 'a ?? b' }} {{ \"x ? y : z\" }} {{ 'a contains b' ~ '}}' }}") == (
        "a ?? b x ? y : z a contains b}}"
    )


def test_a_map_literal_can_close_with_braces_before_the_end_of_the_expression() -> None:
    assert r("{{ {'a': {'b': 1}} }}") == '{"a":{"b":1}}'


def test_ternary_picks_a_branch() -> None:
    assert r("{{ inputs.count > 2 ? 'big' : 'small' }}") == "big"
    assert r("{{ inputs.count > 5 ? 'big' : inputs.count > 2 ? 'medium' : 'small' }}") == "medium"
    assert r("{{ inputs.optional == null ? 'none' : 'some' }}") == "none"


def test_contains_works_on_strings_lists_and_map_keys() -> None:
    assert r("{{ 'kestra' contains 'est' }}") == "true"
    assert r("{{ inputs.items contains 2 }} {{ inputs.items contains 9 }}") == "true false"
    assert r("{{ inputs.payload contains 'a' }}") == "true"
    assert r("{{ inputs.items contains [1, 3] }} {{ inputs.items contains [1, 9] }}") == (
        "true false"
    )


def test_in_and_not_in() -> None:
    assert r("{{ 'b' in ['a', 'b'] }} {{ 'c' not in ['a', 'b'] }}") == "true true"


def test_logic_and_comparison() -> None:
    assert r("{{ not false and false }}") == "false"
    assert r("{{ inputs.count == 3 and inputs.name equals 'World' or false }}") == "true"
    assert r("{{ inputs.count != 3 }} {{ inputs.count >= 3 }}") == "false true"


def test_tests_defined_null_empty_and_friends() -> None:
    assert r("{{ inputs.name is defined }} {{ inputs.nope is not defined }}") == "true true"
    assert r("{{ inputs.optional is null }} {{ inputs.name is not null }}") == "true true"
    assert r("{{ '' is empty }} {{ [] is empty }} {{ inputs.items is empty }}") == (
        "true true false"
    )
    assert r("{{ 2 is even }} {{ 3 is odd }} {{ inputs.payload is map }}") == "true true true"
    assert r("{{ '{\"a\": 1}' is json }} {{ 'nope' is json }}") == "true false"


def test_concatenation_with_tilde_binds_tighter_than_a_filter_like_pebble() -> None:
    assert r("{{ 'a' ~ 'b' | upper }}") == "AB"
    assert r("{{ 'n=' ~ inputs.count ~ ' ' ~ true }}") == "n=3 true"


def test_arithmetic_follows_pebble() -> None:
    assert r("{{ 2 + 3 * 4 }} {{ (2 + 3) * 4 }}") == "14 20"
    assert r("{{ 7 / 2 }} {{ -7 / 2 }} {{ 7.0 / 2 }} {{ 7 % 3 }} {{ -3 | abs }}") == (
        "3 -3 3.5 1 3"
    )
    assert r("{{ 'a' + 1 }} {{ [1] + [2] }}") == "a1 [1,2]"


def test_attribute_and_index_access() -> None:
    assert r("{{ outputs.t1.outputFiles['f.csv'] }}") == "kestra:///f.csv"
    assert r("{{ inputs['payload'].b[1] }} {{ inputs.items.0 }}") == "2 3"


def test_if_elseif_else() -> None:
    template = "{% if inputs.count > 5 %}a{% elseif inputs.count > 2 %}b{% else %}c{% endif %}"
    assert r(template) == "b"


def test_for_loops_have_a_zero_based_index_and_walk_maps_as_entries() -> None:
    assert r("{% for x in inputs.items %}{{ loop.index }}:{{ x }} {% endfor %}") == "0:3 1:1 2:2 "
    assert r("{% for x in [] %}a{% else %}empty{% endfor %}") == "empty"
    assert r("{% for e in inputs.payload %}{{ e.key }}={{ e.value }};{% endfor %}") == (
        "a=1;b=[1,2];"
    )
    assert r("{% for k, v in inputs.payload %}{{ k }}{% endfor %}") == "ab"
    assert r("{% for x in [1, 2] %}{{ loop.first }}{{ loop.last }}{% endfor %}") == (
        "truefalsefalsetrue"
    )


def test_set_filter_raw_and_comments() -> None:
    assert r("{% set x = inputs.count * 2 %}{{ x }}") == "6"
    assert r("{% filter upper %}hi {{ inputs.name }}{% endfilter %}") == "HI WORLD"
    assert r("{% raw %}{{ not rendered }}{% endraw %}{{ 1 }}") == "{{ not rendered }}1"
    assert r("a{# hidden {{ x }} #}b{{ 1 }}") == "ab1"


def test_literals() -> None:
    assert r("{{ 10l }} {{ -1.5 }} {{ \"it\\\"s\" }} {{ 'it\\'s' }}") == "10 -1.5 it\"s it's"


# --- filters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ 'Hello' | upper }} {{ 'Hello' | lower }}", "HELLO hello"),
        ("{{ 'hello wORLD' | capitalize }}", "Hello wORLD"),
        ("{{ 'article title' | title }}", "Article Title"),
        ("{{ '  x  ' | trim }}", "x"),
        ("{{ 'this is a long sentence.' | abbreviate(7) }}", "this..."),
        ("{{ 'short' | abbreviate(10) }}", "short"),
        ("{{ inputs.optional | default('none') }}", "none"),
        ("{{ inputs.missing | default('none') }}", "none"),
        ("{{ '' | default('none') }} {{ 'x' | default('none') }}", "none x"),
        ("{{ 'abc' | length }} {{ inputs.items | length }} {{ inputs.payload | length }}", "3 3 2"),
        ("{{ inputs.items | join(', ') }}", "3, 1, 2"),
        ("{{ 'a,b,c' | split(',') }}", '["a","b","c"]'),
        ("{{ 'a,b,c' | split(',', 2) }}", '["a","b,c"]'),
        ("{{ 'I like %this%.' | replace({'%this%': 'cake'}) }}", "I like cake."),
        ("{{ 'aXbX' | replace('X', '-') }}", "a-b-"),
        ("{{ 'a1b22' | replace({'[0-9]+': '#'}, regexp=true) }}", "a#b#"),
        ("{{ inputs.items | first }} {{ inputs.items | last }}", "3 2"),
        ("{{ 'abc' | first }} {{ 'abc' | last }}", "a c"),
        ("{{ inputs.payload | keys }} {{ {'x': 1, 'y': 2} | values }}", '["a","b"] [1,2]'),
        ("{{ inputs.items | sort }} {{ inputs.items | rsort }}", "[1,2,3] [3,2,1]"),
        ("{{ inputs.items | reverse }} {{ 'abc' | reverse }}", "[2,1,3] cba"),
        ("{{ ['a', 'b', 'c'] | slice(1, 2) }} {{ 'kestra' | slice(0, 3) }}", '["b"] kes'),
        ("{{ [1, 2, 3, 4, 5] | chunk(2) }}", "[[1,2],[3,4],[5]]"),
        ("{{ [1, 2, 1, 3] | distinct }} {{ [[1], [2, 3]] | flatten }}", "[1,2,3] [1,2,3]"),
        ("{{ [1] | merge([2]) }} {{ {'a': 1} | merge({'b': 2}) }}", '[1,2] {"a":1,"b":2}'),
        ("{{ 'Hello World!' | slugify }} {{ 'Été à Paris' | slugify }}", "hello-world ete-a-paris"),
        ("{{ '12' | number }} {{ '12.5' | number }} {{ ('12' | number) + 1 }}", "12 12.5 13"),
        ("{{ '7' | number('FLOAT') }} {{ '7' | number('INT') }}", "7.0 7"),
        ("{{ -7 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }}", "7 2.57 3"),
        ("{{ 3.141592653 | numberFormat('#.##') }}", "3.14"),
        (
            "{{ 1234567.891 | numberFormat('#,##0.00') }} {{ 5 | numberFormat('0.00') }}",
            "1,234,567.89 5.00",
        ),
        ("{{ 'The string ü@foo-bar' | urlencode }}", "The+string+%C3%BC%40foo-bar"),
        ("{{ 'a+b%20c' | urldecode }}", "a b c"),
        ("{{ 'test' | base64encode }} {{ 'dGVzdA==' | base64decode }}", "dGVzdA== test"),
        (
            "{{ 'test' | sha256 }}",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ),
        ("{{ 'test' | md5 }}", "098f6bcd4621d373cade4e832627b4f6"),
        ("{{ 'kestra' | startsWith('kes') }} {{ 'kestra' | endsWith('x') }}", "true false"),
        ("{{ 'a.b.c' | substringBefore('.') }} {{ 'a.b.c' | substringAfter('.') }}", "a b.c"),
        (
            "{{ 'a.b.c' | substringBeforeLast('.') }} {{ 'a.b.c' | substringAfterLast('.') }}",
            "a.b c",
        ),
        ("{{ 'abc' | substringBefore('z') }}|{{ 'abc' | substringAfter('z') }}|", "abc||"),
        ("{{ [1, 2, 3] | toJson }} {{ true | toJson }} {{ 'foo' | toJson }}", '[1,2,3] true "foo"'),
        ("{{ {'a': 1} | json }}", '{"a":1}'),
        ("{{ {'key': 'value', 'n': [1, 2]} | yaml }}", "key: value\nn:\n- 1\n- 2\n"),
        ("{{ 'a\nb' | indent(2) }}", "a\n  b"),
        ("{{ 'a\nb' | nindent(2) }}", "\n  a\n  b"),
        ("{{ \"it's\" | escapeChar('shell') }}", "it'\\''s"),
        (
            "{{ \"it's\" | escapeChar('single') }} {{ 'say \"hi\"' | escapeChar('double') }}",
            'it\\\'s say \\"hi\\"',
        ),
        ("{{ 5 | string }}{{ true | string }}", "5true"),
    ],
)
def test_filters(template: str, expected: str) -> None:
    assert r(template) == expected


def test_jq_returns_a_list_of_results() -> None:
    assert r("{{ [1, 2, 3] | jq('.') }}") == "[[1,2,3]]"
    assert r("{{ [1, 2, 3] | jq('.[0]') | first }}") == "1"
    assert r("{{ inputs.payload | jq('.b[]') }}") == "[1,2]"
    assert r("{{ inputs.payload | jq('.b | .[1]') }}") == "[2]"
    assert r("{{ inputs.payload | jq('.missing') }}") == "[null]"
    assert r("{{ '{\"a\": {\"b\": 5}}' | jq('.a.b') | first }}") == "5"
    assert r("{{ {'a-b': 1} | jq('.[\"a-b\"]') }}") == "[1]"


def test_jq_beyond_paths_says_it_is_not_supported() -> None:
    assert "not supported" in failure("{{ [1, 2] | jq('map(. * 2)') }}").reason


def test_escape_char_needs_a_known_style() -> None:
    assert "'single', 'double', or 'shell'" in failure("{{ 'x' | escapeChar('xml') }}").reason


def test_number_refuses_text_that_is_not_a_number() -> None:
    assert "'abc' is not a number" in failure("{{ 'abc' | number }}").reason


# --- dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ execution.startDate | date('yyyy-MM-dd') }}", "2026-11-24"),
        (
            "{{ execution.startDate | date(\"yyyy-MM-dd'T'HH:mm:ss.SSSXXX\") }}",
            "2026-11-24T10:00:00.123Z",
        ),
        ("{{ execution.startDate | date('yy M d H m s') }}", "26 11 24 10 0 0"),
        ("{{ execution.startDate | date('EEE EEEE MMM MMMM a') }}", "Tue Tuesday Nov November AM"),
        ("{{ execution.startDate | date('hh:mm a Z') }}", "10:00 AM +0000"),
        ("{{ execution.startDate | date('HH:mm XXX', timeZone='Europe/Paris') }}", "11:00 +01:00"),
        ("{{ execution.startDate | date(format='HH:mm', timeZone='America/New_York') }}", "05:00"),
        ("{{ execution.startDate | date('iso') }}", "2026-11-24T10:00:00.123000Z"),
        ("{{ execution.startDate | date('iso_sec') }}", "2026-11-24T10:00:00Z"),
        ("{{ execution.startDate | date('sql_seq') }}", "2026-11-24 10:00:00"),
        ("{{ execution.startDate | date('iso_local_date') }}", "2026-11-24"),
        ("{{ execution.startDate | date }}", "2026-11-24T10:00:00.123000Z"),
        ("{{ inputs.when | date('yyyy/MM/dd HH:mm') }}", "2026/11/24 10:00"),
        ("{{ '2026-11-24T12:00:00+02:00' | date('HH:mm') }}", "10:00"),
        ("{{ '2026-11-24' | date('dd.MM.yyyy') }}", "24.11.2026"),
        ("{{ 1700000000 | date('yyyy-MM-dd HH:mm:ss') }}", "2023-11-14 22:13:20"),
        ("{{ '24/11/2026' | date('yyyy-MM-dd', existingFormat='dd/MM/yyyy') }}", "2026-11-24"),
    ],
)
def test_date_formats_with_java_patterns(template: str, expected: str) -> None:
    assert r(template) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ execution.startDate | dateAdd(1, 'DAYS') }}", "2026-11-25T10:00:00.123000Z"),
        ("{{ execution.startDate | dateAdd(-2, 'HOURS') | date('HH:mm') }}", "08:00"),
        ("{{ execution.startDate | dateAdd(30, 'MINUTES') | date('HH:mm') }}", "10:30"),
        ("{{ execution.startDate | dateAdd(15, 'SECONDS') | date('ss') }}", "15"),
        ("{{ execution.startDate | dateAdd(1, 'WEEKS') | date('yyyy-MM-dd') }}", "2026-12-01"),
        ("{{ '2026-01-31T00:00:00Z' | dateAdd(1, 'MONTHS') | date('yyyy-MM-dd') }}", "2026-02-28"),
        ("{{ execution.startDate | dateAdd(-1, 'YEARS') | date('yyyy') }}", "2025"),
        ("{{ execution.startDate | dateAdd(1, 'DAYS', format='yyyy-MM-dd') }}", "2026-11-25"),
    ],
)
def test_date_add_moves_by_the_unit(template: str, expected: str) -> None:
    assert r(template) == expected


def test_date_add_refuses_an_unknown_unit() -> None:
    assert "unit must be one of" in failure("{{ now() | dateAdd(1, 'FORTNIGHTS') }}").reason


def test_timestamps() -> None:
    assert r("{{ execution.startDate | timestamp }}") == "1795514400"
    assert r("{{ execution.startDate | timestampMilli }}") == "1795514400123"
    assert r("{{ execution.startDate | timestampMicro }}") == "1795514400123000"
    assert r("{{ execution.startDate | timestampNano }}") == "1795514400123000000"


def test_a_bad_date_or_zone_is_named() -> None:
    assert "not an ISO-8601 date" in failure("{{ 'yesterday' | date('yyyy') }}").reason
    assert (
        "Unknown time zone 'Mars/Base'"
        in failure("{{ now() | date('yyyy', timeZone='Mars/Base') }}").reason
    )


# --- functions -----------------------------------------------------------------------


def test_now_is_the_current_utc_instant() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    rendered = r("{{ now() }}")
    assert rendered.endswith("Z")
    assert datetime.fromisoformat(rendered) >= before
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r("{{ now() | date('yyyy-MM-dd') }}"))


def test_json_functions_parse_text() -> None:
    assert r("{{ fromJson('[1, 2, 3]')[0] }}") == "1"
    assert r('{{ json(\'{"a": {"b": 2}}\').a.b }}') == "2"
    assert r("{{ toJson({'a': true}) }}") == '{"a":true}'
    assert "not valid JSON" in failure("{{ fromJson('{nope') }}").reason


def test_yaml_function_parses_text() -> None:
    assert r("{{ yaml('foo: [666, 1, 2]').foo[0] }}") == "666"


def test_range_includes_both_ends_like_pebble() -> None:
    assert r("{{ range(0, 3) }} {{ range(0, 8, 2) }} {{ range(3, 1, -1) }}") == (
        "[0,1,2,3] [0,2,4,6,8] [3,2,1]"
    )
    assert r("{% for i in 1..3 %}{{ i }}{% endfor %}") == "123"


def test_render_renders_a_variable_holding_expressions_recursively() -> None:
    assert r("{{ vars.greeting }}") == "Hello {{ inputs.name }}"
    assert r("{{ render(vars.greeting) }}") == "Hello World"
    assert r("{{ render(vars.nested) }}") == "Hello World!"
    assert r("{{ renderOnce(vars.nested) }}") == "Hello {{ inputs.name }}!"
    assert r("{{ render(inputs.count) }}") == "3"


def test_render_sees_variables_set_in_the_template() -> None:
    assert r("{% set who = 'you' %}{{ render('hi {{ who }}') }}") == "hi you"


def test_print_context_shows_the_variables_without_functions() -> None:
    printed = json.loads(render("{{ printContext() }}", {"a": 1, "f": len, "m": {"g": len}}))
    assert printed == {"a": 1, "m": {}}


def test_max_min_and_random_int() -> None:
    assert r("{{ max(1, 5, 3) }} {{ min([4, 2, 8]) }}") == "5 2"
    assert 1 <= int(r("{{ randomInt(1, 10) }}")) < 10
    assert re.fullmatch(r"[0-9a-f-]{36}", r("{{ uuid() }}"))


def test_the_engines_helpers_are_not_in_the_printed_context() -> None:
    printed = json.loads(render("{{ printContext() }}", {"a": 1}))
    assert printed == {"a": 1}
