"""The functions an expression may call: now, json, yaml, range, render and friends."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from flows.expressions import render
from tests.flows.expression_helpers import failure, r


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
