"""The JSON Schema served to editors is generated from the models that validate flows."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml
from django.test import Client

from flows.language import FlowInvalid, parse_flow
from flows.schema import SCHEMA_PATH, flow_schema

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"


def schema_errors(source: str) -> list[jsonschema.ValidationError]:
    validator = jsonschema.Draft202012Validator(flow_schema())
    return list(validator.iter_errors(yaml.safe_load(source)))


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(flow_schema())


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yml")), ids=lambda p: p.name)
def test_the_schema_accepts_every_example_flow(path: Path) -> None:
    assert schema_errors(path.read_text()) == []


def test_the_schema_rejects_an_unknown_task_type_at_its_path() -> None:
    source = "id: x\nnamespace: dev\ntasks:\n  - id: ok\n    type: Log\n    message: m\n"
    source += "  - id: bad\n    type: io.kestra.plugin.nope.Task\n"
    [error] = schema_errors(source)
    assert list(error.absolute_path) == ["tasks", 1]
    with pytest.raises(FlowInvalid):  # and the server agrees
        parse_flow(source)


def test_the_schema_offers_every_task_type_with_its_properties_and_docs() -> None:
    schema = flow_schema()
    definitions = schema["definitions"]
    assert schema["properties"]["tasks"]["items"] == {
        "$ref": "#/definitions/io.kestra.core.models.tasks.Task"
    }
    mapping = definitions["io.kestra.core.models.tasks.Task"]["discriminator"]["mapping"]
    assert {"io.kestra.plugin.scripts.python.Script", "python.Script", "Log"} <= set(mapping)
    script = definitions["io.kestra.plugin.scripts.python.Script"]["properties"]
    assert script["script"]["description"] == "The Python source to run"
    assert script["warningOnStdErr"]["default"] is True
    runner = definitions["io.kestra.core.models.tasks.runners.TaskRunner"]
    assert set(runner["properties"]["pullPolicy"]["anyOf"][0]["enum"]) == {
        "IF_NOT_PRESENT",
        "ALWAYS",
        "NEVER",
    }


@pytest.mark.parametrize(
    "extra",
    [
        "    env: {A: 1, B: true}\n",
        "    taskRunner:\n      type: io.kestra.plugin.scripts.runner.docker.Docker\n"
        "      cpu: 1.5\n      memory: 512MB\n",
        "    timeout: PT1M\n",
    ],
)
def test_the_schema_accepts_the_shorthands_the_server_accepts(extra: str) -> None:
    source = "id: x\nnamespace: dev\nlabels:\n  - key: team\n    value: 1\n"
    source += "tasks:\n  - id: a\n    type: shell.Commands\n    commands: [echo]\n" + extra
    parse_flow(source)
    assert schema_errors(source) == []


def test_keys_the_server_does_not_support_yet_are_not_offered() -> None:
    assert "checks" not in flow_schema()["properties"]
    log = flow_schema()["definitions"]["io.kestra.plugin.core.log.Log"]
    assert "workerGroup" not in log["properties"]


def test_the_schema_is_served_to_anyone_at_kestras_path(client: Client) -> None:
    response = client.get(SCHEMA_PATH)
    assert response.status_code == 200
    assert response.json()["$id"] == SCHEMA_PATH
    assert "max-age=300" in response["Cache-Control"]
