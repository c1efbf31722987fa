"""Flow inputs as Kestra writes them: declared in the flow, checked when a run starts."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from flows.inputs import InputsInvalid, inputs_resolve
from flows.language import FlowInvalid, parse_flow
from flows.schema import flow_schema

HEAD = "id: typed\nnamespace: dev\ntasks:\n  - id: say\n    type: Log\n    message: hi\ninputs:\n"

# Kestra's documented example of every input type, as written in its docs.
EVERY_TYPE = (
    HEAD
    + """\
  - id: string
    type: STRING
    defaults: "Hello World!"
    displayName: A string input
  - id: optional
    type: STRING
    required: false
  - id: int
    type: INT
    defaults: 100
  - id: list_of_int
    type: ARRAY
    itemType: INT
    defaults: [1, 2, 3]
  - id: bool
    type: BOOLEAN
    defaults: true
  - id: float
    type: FLOAT
    defaults: 100.12
  - id: dropdown
    type: SELECT
    defaults: VALUE_1
    values: [VALUE_1, VALUE_2, VALUE_3]
  - id: dropdown_multi
    type: MULTISELECT
    values: [VALUE_1, VALUE_2, VALUE_3]
    defaults: [VALUE_1]
  - id: instant
    type: DATETIME
    defaults: "2013-08-09T14:19:00Z"
  - id: date
    type: DATE
    defaults: "2013-10-25"
  - id: time
    type: TIME
    defaults: "14:19:00"
  - id: duration
    type: DURATION
    defaults: PT1H
  - id: json
    type: JSON
    defaults: '{"a": "b"}'
  - id: yaml
    type: YAML
    defaults: "a: b"
  - id: uri
    type: URI
    defaults: https://huggingface.co/datasets/kestra/datasets/raw/main/csv/orders.csv
  - id: email
    type: EMAIL
    defaults: anna@example.com
  - id: file
    type: FILE
    required: false
"""
)


def inputs_of(source: str) -> list[Any]:
    return parse_flow(source).inputs


def resolve(source: str, data: dict[str, Any], files: dict[str, Any] | None = None) -> Any:
    return inputs_resolve(
        inputs_of(source), data, files or {}, store_file=lambda i, f: f"kestra:///t/{i}/{f.name}"
    )


def refused(source: str, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputsInvalid) as caught:
        resolve(source, data)
    return caught.value.errors


def the_error(source: str) -> Any:
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(source)
    [error] = caught.value.errors
    return error


# The language


def test_kestras_example_of_every_input_type_is_read() -> None:
    types = [i.type for i in inputs_of(EVERY_TYPE)]
    assert types[:4] == ["STRING", "STRING", "INT", "ARRAY"]
    assert len(types) == 17


def test_inputs_are_required_unless_the_flow_says_otherwise() -> None:
    string, optional = inputs_of(EVERY_TYPE)[:2]
    assert string.required is True
    assert optional.required is False


def test_the_older_spellings_name_enum_and_options_are_read() -> None:
    source = HEAD + "  - name: env\n    type: ENUM\n    values: [dev, prod]\n"
    source += "  - id: tags\n    type: MULTISELECT\n    options: [a, b]\n"
    env, tags = inputs_of(source)
    assert env.id == "env"
    assert resolve(source, {"env": "prod", "tags": ["b"]}) == {"env": "prod", "tags": ["b"]}


def test_a_default_that_does_not_fit_its_type_is_refused_at_its_line() -> None:
    error = the_error(HEAD + "  - id: count\n    type: INT\n    defaults: many\n")
    assert (error.line, error.column, error.path) == (10, 15, "inputs[0].defaults")
    assert error.message == "Default of input 'count' must be an integer, got 'many'"


def test_a_default_outside_the_select_values_is_refused() -> None:
    source = HEAD + "  - id: env\n    type: SELECT\n    values: [dev, prod]\n    defaults: qa\n"
    error = the_error(source)
    assert error.path == "inputs[0].defaults"
    assert "must be one of 'dev', 'prod', got 'qa'" in error.message


def test_an_input_id_used_twice_is_refused_at_the_second() -> None:
    source = HEAD + "  - id: n\n    type: INT\n  - id: n\n    type: STRING\n"
    error = the_error(source)
    assert (error.line, error.path) == (10, "inputs[1].id")
    assert error.message == "Input id 'n' is used more than once"


def test_an_unknown_input_type_is_named() -> None:
    error = the_error(HEAD + "  - id: n\n    type: NUMBER\n")
    assert (error.line, error.message) == (9, "Unknown input type 'NUMBER'")


def test_an_unknown_input_property_is_named_at_its_key() -> None:
    error = the_error(HEAD + "  - id: n\n    type: INT\n    minimum: 3\n")
    assert (error.line, error.column, error.message) == (10, 5, "Unknown property 'minimum'")


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ("    type: STRING\n    validator: '[a-'\n", "inputs[0].validator", "regular expression"),
        ("    type: INT\n    min: 5\n    max: 1\n", "inputs[0].min", "must not be greater"),
        ("    type: SELECT\n    values: []\n", "inputs[0].values", "at least 1 item"),
        ("    type: MULTISELECT\n", "inputs[0].values", "needs a list of 'values'"),
        ("    type: ARRAY\n    itemType: FILE\n", "inputs[0].itemType", "'itemType'"),
        ("    type: ARRAY\n", "inputs[0].itemType", "Missing required property"),
    ],
)
def test_input_definitions_that_make_no_sense_are_refused(
    extra: str, path: str, message: str
) -> None:
    error = the_error(HEAD + "  - id: n\n" + extra)
    assert error.path == path
    assert message in error.message


def test_an_expression_in_defaults_is_left_for_the_run_to_render() -> None:
    inputs_of(HEAD + "  - id: when\n    type: DATETIME\n    defaults: '{{ now() }}'\n")


def test_the_schema_offers_inputs_and_agrees_with_the_server() -> None:
    schema = flow_schema()
    mapping = schema["definitions"]["io.kestra.core.models.flows.Input"]["discriminator"]["mapping"]
    assert {"STRING", "INT", "SELECT", "ENUM", "MULTISELECT", "FILE", "DURATION"} <= set(mapping)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(yaml.safe_load(EVERY_TYPE.replace("2013-10-25", "x")))) == []
    older = yaml.safe_load(HEAD + "  - name: n\n    type: INT\n")
    assert list(validator.iter_errors(older)) == []
    assert list(validator.iter_errors(yaml.safe_load(HEAD + "  - id: n\n    type: NOPE\n")))


# Resolution when a run starts


def test_defaults_fill_every_input_not_given_with_typed_values() -> None:
    values = resolve(EVERY_TYPE, {})
    assert values == {
        "string": "Hello World!",
        "optional": None,
        "int": 100,
        "list_of_int": [1, 2, 3],
        "bool": True,
        "float": 100.12,
        "dropdown": "VALUE_1",
        "dropdown_multi": ["VALUE_1"],
        "instant": "2013-08-09T14:19:00Z",
        "date": "2013-10-25",
        "time": "14:19:00",
        "duration": "PT1H",
        "json": {"a": "b"},
        "yaml": {"a": "b"},
        "uri": "https://huggingface.co/datasets/kestra/datasets/raw/main/csv/orders.csv",
        "email": "anna@example.com",
        "file": None,
    }


def test_values_sent_as_text_become_typed() -> None:
    sent = {
        "int": "42",
        "list_of_int": "[4, 5]",
        "bool": "false",
        "float": "2.5",
        "dropdown": "VALUE_3",
        "dropdown_multi": '["VALUE_2", "VALUE_3"]',
        "instant": "2024-03-01T10:30:00+02:00",
        "date": "2024-03-01",
        "time": "09:05",
        "duration": "P1DT90M",
        "json": '[1, {"x": null}]',
        "yaml": "- a\n- b\n",
    }
    values = resolve(EVERY_TYPE, sent)
    assert {k: values[k] for k in sent} == {
        "int": 42,
        "list_of_int": [4, 5],
        "bool": False,
        "float": 2.5,
        "dropdown": "VALUE_3",
        "dropdown_multi": ["VALUE_2", "VALUE_3"],
        "instant": "2024-03-01T08:30:00Z",
        "date": "2024-03-01",
        "time": "09:05:00",
        "duration": "PT25H30M",
        "json": [1, {"x": None}],
        "yaml": ["a", "b"],
    }


def test_typed_json_values_are_taken_as_they_are() -> None:
    values = resolve(
        EVERY_TYPE, {"int": 7, "bool": False, "json": {"k": [1]}, "dropdown_multi": ["VALUE_2"]}
    )
    assert (values["int"], values["bool"], values["json"]) == (7, False, {"k": [1]})
    assert values["dropdown_multi"] == ["VALUE_2"]


@pytest.mark.parametrize("sent", [True, "true", "on", "TRUE"])
def test_a_boolean_takes_the_spellings_of_forms_and_json(sent: Any) -> None:
    assert resolve(HEAD + "  - id: b\n    type: BOOLEAN\n", {"b": sent}) == {"b": True}


def test_a_datetime_without_an_offset_is_taken_as_utc() -> None:
    source = HEAD + "  - id: at\n    type: DATETIME\n"
    assert resolve(source, {"at": "2024-05-06T07:08"}) == {"at": "2024-05-06T07:08:00Z"}


@pytest.mark.parametrize(
    ("definition", "sent", "message"),
    [
        ("{type: INT}", "abc", "Input 'x' must be an integer, got 'abc'"),
        ("{type: INT}", "1.5", "Input 'x' must be an integer, got '1.5'"),
        ("{type: INT}", True, "Input 'x' must be an integer, got 'true'"),
        ("{type: INT, min: 1, max: 10}", "11", "Input 'x' must be at most 10, got 11"),
        ("{type: FLOAT, min: 0.5}", "0.1", "Input 'x' must be at least 0.5, got 0.1"),
        ("{type: FLOAT}", "nan", "Input 'x' must be a number, got 'nan'"),
        ("{type: BOOLEAN}", "maybe", "Input 'x' must be true or false, got 'maybe'"),
        ("{type: STRING, validator: '^student\\d*$'}", "teacher", "must match the pattern"),
        ("{type: SELECT, values: [a, b]}", "c", "Input 'x' must be one of 'a', 'b', got 'c'"),
        ("{type: MULTISELECT, values: [a, b]}", ["a", "z"], "'z' is not among them"),
        ("{type: DATETIME}", "yesterday", "must be a date and time such as 2024-01-31T09:30:00Z"),
        ("{type: DATE, after: 2024-01-01}", "2023-12-31", "must be at least 2024-01-01"),
        ("{type: DATE}", "31/12/2024", "must be a date such as 2024-01-31, got '31/12/2024'"),
        ("{type: TIME}", "25:00", "must be a time such as 14:30:00"),
        ("{type: DURATION}", "1 hour", "must be an ISO-8601 duration such as PT1H, got '1 hour'"),
        ("{type: DURATION, max: PT1H}", "PT2H", "must be at most PT1H, got PT2H"),
        ("{type: JSON}", "{oops", "Input 'x' must be valid JSON"),
        ("{type: URI}", "not a uri", "must be a URI"),
        ("{type: EMAIL}", "anna", "must be an email address, got 'anna'"),
        ("{type: ARRAY, itemType: INT}", '[1, "b"]', "has an invalid item 2: must be an integer"),
        ("{type: FILE}", "just text", "must be an uploaded file or a file URI"),
    ],
)
def test_a_bad_value_is_refused_with_a_message_naming_the_input(
    definition: str, sent: Any, message: str
) -> None:
    source = HEAD + f"  - {{id: x, {definition[1:]}\n"
    errors = refused(source, {"x": sent})
    assert list(errors) == ["x"]
    assert message in errors["x"]


def test_every_problem_is_reported_at_once() -> None:
    source = (
        HEAD + "  - id: a\n    type: INT\n  - id: b\n    type: DATE\n  - id: c\n    type: STRING\n"
    )
    errors = refused(source, {"b": "soon", "nope": 1, "other": 2})
    assert errors == {
        "": "Unknown inputs: nope, other",
        "a": "Input 'a' is required",
        "b": "Input 'b' must be a date such as 2024-01-31, got 'soon'",
        "c": "Input 'c' is required",
    }


def test_an_empty_value_counts_as_not_given() -> None:
    source = HEAD + "  - id: n\n    type: INT\n    defaults: 3\n  - id: s\n    type: STRING\n"
    assert refused(source, {"n": "", "s": ""}) == {"s": "Input 's' is required"}
    assert resolve(source, {"n": "", "s": "x"}) == {"n": 3, "s": "x"}


def test_select_with_auto_select_first_defaults_to_its_first_value() -> None:
    source = (
        HEAD + "  - id: env\n    type: SELECT\n    values: [dev, prod]\n    autoSelectFirst: true\n"
    )
    assert resolve(source, {}) == {"env": "dev"}


def test_custom_values_are_taken_only_when_allowed() -> None:
    source = HEAD + "  - id: env\n    type: SELECT\n    values: [dev]\n    allowCustomValue: true\n"
    assert resolve(source, {"env": "staging"}) == {"env": "staging"}


def test_an_uploaded_file_is_stored_and_its_uri_kept() -> None:
    source = HEAD + "  - id: data\n    type: FILE\n    allowedFileExtensions: ['.csv']\n"
    upload = SimpleUploadedFile("orders.csv", b"a,b\n1,2\n")
    assert resolve(source, {}, {"data": upload}) == {"data": "kestra:///t/data/orders.csv"}


def test_nothing_is_stored_when_another_input_is_invalid() -> None:
    source = HEAD + "  - id: data\n    type: FILE\n  - id: n\n    type: INT\n"
    stored: list[str] = []

    def store(input_id: str, upload: object) -> str:
        stored.append(input_id)
        return "kestra:///x"

    with pytest.raises(InputsInvalid) as caught:
        inputs_resolve(
            inputs_of(source),
            {"n": "x"},
            {"data": SimpleUploadedFile("a.txt", b"a")},
            store_file=store,
        )
    assert list(caught.value.errors) == ["n"]
    assert stored == []


def test_a_file_of_a_refused_extension_or_for_a_value_input_is_refused() -> None:
    source = HEAD + "  - id: data\n    type: FILE\n    allowedFileExtensions: ['.csv']\n"
    source += "  - id: n\n    type: INT\n"
    with pytest.raises(InputsInvalid) as caught:
        resolve(
            source,
            {},
            {"data": SimpleUploadedFile("a.exe", b""), "n": SimpleUploadedFile("n", b"1")},
        )
    assert caught.value.errors == {
        "data": "Input 'data' must be a file ending in .csv, got 'a.exe'",
        "n": "Input 'n' is not a FILE input: send its value as a field, not a file",
    }
