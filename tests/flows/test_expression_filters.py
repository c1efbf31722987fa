"""Pebble's and Kestra's filters, Java date patterns included."""

from __future__ import annotations

import pytest

from tests.flows.expression_helpers import failure, r

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
