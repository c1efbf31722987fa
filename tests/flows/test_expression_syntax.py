"""Pebble's syntax: operators, tests, tags, loops and literals."""

from __future__ import annotations

from tests.flows.expression_helpers import r


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
