"""The served JSON Schema has Kestra's shape: draft-07, ``definitions`` keyed by Kestra's
class names, every reference resolving there, the flow itself among them."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import yaml

from flows.language import parse_flow
from flows.schema import FLOW_CLASS, flow_schema

PYTHON_SCRIPT = "io.kestra.plugin.scripts.python.Script"


def refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [r for key, item in value.items() for r in refs(item) if key != "mapping"] + (
            [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        )
    if isinstance(value, list):
        return [r for item in value for r in refs(item)]
    return []


def test_definitions_are_keyed_by_kestras_class_names() -> None:
    definitions = flow_schema()["definitions"]
    assert {
        FLOW_CLASS,
        PYTHON_SCRIPT,
        "io.kestra.plugin.scripts.python.Commands",
        "io.kestra.plugin.scripts.shell.Commands",
        "io.kestra.plugin.core.log.Log",
        "io.kestra.plugin.core.flow.Parallel",
        "io.kestra.plugin.core.trigger.Schedule",
        "io.kestra.core.models.flows.input.StringInput",
    } <= set(definitions)
    assert "$defs" not in json.dumps(flow_schema())
    assert flow_schema()["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_every_reference_points_at_a_definition_by_class_name() -> None:
    schema = flow_schema()
    found = refs(schema)
    assert f"#/definitions/{PYTHON_SCRIPT}" in found
    for ref in found:
        assert ref.startswith("#/definitions/")
        assert ref.removeprefix("#/definitions/") in schema["definitions"]
    mapping = schema["definitions"]["io.kestra.core.models.tasks.Task"]["discriminator"]["mapping"]
    assert mapping["python.Script"] == f"#/definitions/{PYTHON_SCRIPT}"


def test_the_union_of_task_types_is_written_once_and_referenced_by_every_flowable() -> None:
    schema = flow_schema()
    task = {"$ref": "#/definitions/io.kestra.core.models.tasks.Task"}
    for name in ("Sequential", "Parallel", "ForEach", "WorkingDirectory"):
        flowable = schema["definitions"][f"io.kestra.plugin.core.flow.{name}"]["properties"]
        assert flowable["tasks"]["items"] == task
    assert len(json.dumps(schema)) < 400_000  # each flowable once wrote the union out


def test_the_flow_definition_is_the_root_flowsites_editor_reads() -> None:
    schema = flow_schema()
    flow = schema["definitions"][FLOW_CLASS]
    assert flow["properties"] == schema["properties"]
    assert flow["required"] == schema["required"]


def test_python_tasks_offer_kestras_dependency_properties_with_their_defaults() -> None:
    properties = flow_schema()["definitions"][PYTHON_SCRIPT]["properties"]
    assert properties["dependencyCacheEnabled"]["default"] is True
    assert properties["packageManager"]["default"] == "UV"
    assert set(properties["packageManager"]["enum"]) == {"UV", "PIP"}
    assert {"type": "array", "items": {"type": "string"}} in properties["dependencies"]["anyOf"]
    assert "pythonVersion" in properties


def test_a_draft_07_validator_accepts_a_flow_the_server_accepts_and_refuses_a_bad_one() -> None:
    source = (
        "id: deps\nnamespace: company.team\ntasks:\n"
        "  - id: py\n    type: io.kestra.plugin.scripts.python.Script\n"
        "    dependencies: [kestra, requests>=2]\n    packageManager: PIP\n"
        "    pythonVersion: '3.11'\n    dependencyCacheEnabled: false\n"
        "    script: print(1)\n"
    )
    parse_flow(source)
    validator = jsonschema.Draft7Validator(flow_schema())
    assert list(validator.iter_errors(yaml.safe_load(source))) == []
    bad = yaml.safe_load(source.replace("packageManager: PIP", "packageManager: CONDA"))
    [error] = validator.iter_errors(bad)
    assert list(error.absolute_path)[:2] == ["tasks", 0]


def test_the_schema_accepts_the_short_forms_the_server_accepts() -> None:
    source = (
        "id: deps\nnamespace: company.team\ntasks:\n"
        "  - id: py\n    type: python.Commands\n    dependencies: requests\n"
        "    pythonVersion: 3.12\n    commands: [python -V]\n"
    )
    parse_flow(source)
    assert list(jsonschema.Draft7Validator(flow_schema()).iter_errors(yaml.safe_load(source))) == []
