"""What an expression may not reach or spend: Python internals, files, the network,
unbounded loops and output."""

from __future__ import annotations

import pytest

from flows.expressions import render
from tests.flows.expression_helpers import failure, r


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
