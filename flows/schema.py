"""The flow language's JSON Schema, generated from the same models that validate flows.

Served at Kestra's path for it, so the browser editor and VS Code's YAML extension
autocomplete and check flows from the one source of truth. Shaped as Kestra's: its
``definitions`` are keyed by Kestra's class names (``io.kestra.plugin.scripts.python.
Script``), which Kestra's tooling looks task types up by; the flow itself is both the
root (what Flowsite's editor reads) and ``definitions['io.kestra.core.models.flows.Flow']``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, get_args

from pydantic import BaseModel

from .language.flow import FlowDefinition
from .language.tasks import LanguageModel

SCHEMA_PATH = "/api/v1/plugins/schemas/flow"
FLOW_CLASS = "io.kestra.core.models.flows.Flow"
INPUTS_PACKAGE = "io.kestra.core.models.flows.input"
# Models without a ``type`` naming their Kestra class.
CLASS_NAMES = {
    "FlowDefinition": FLOW_CLASS,
    "FlowOutput": "io.kestra.core.models.flows.Output",
    "Concurrency": "io.kestra.core.models.flows.Concurrency",
    "Retry": "io.kestra.core.models.tasks.retrys.AbstractRetry",
    "TaskRunner": "io.kestra.core.models.tasks.runners.TaskRunner",
    "DockerOptions": "io.kestra.plugin.scripts.exec.scripts.models.DockerOptions",
    "CpuLimit": "io.kestra.plugin.scripts.runner.docker.Cpu",
    "MemoryLimit": "io.kestra.plugin.scripts.runner.docker.Memory",
    "ScheduleBackfill": "io.kestra.plugin.core.trigger.Schedule$Backfill",
    "Preconditions": "io.kestra.plugin.core.trigger.Flow$Preconditions",
    "UpstreamFlow": "io.kestra.plugin.core.trigger.Flow$UpstreamFlow",
}


@lru_cache(maxsize=1)
def flow_schema() -> dict[str, Any]:
    schema = FlowDefinition.model_json_schema(by_alias=True, mode="validation")
    definitions = schema.pop("$defs", {})
    names = _class_names(definitions)
    root = _refs_renamed(schema, names)
    _drop_not_supported(root)
    kestra = {names[short]: _refs_renamed(body, names) for short, body in definitions.items()}
    for definition in kestra.values():
        _drop_not_supported(definition)
    kestra[FLOW_CLASS] = {key: value for key, value in root.items() if key != "definitions"}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_PATH,
        **root,
        "title": "Flowsite flow",
        "description": "A flow in Kestra's language, as Flowsite runs it.",
        "definitions": kestra,
    }


def _class_names(definitions: dict[str, Any]) -> dict[str, str]:
    """Pydantic's short definition names -> Kestra's class names, each used once."""
    models = {model.__name__: model for model in _language_models()}
    names: dict[str, str] = {}
    for short in definitions:
        model = models.get(short)
        name = CLASS_NAMES.get(short) or (_kestra_type(model) if model else None) or short
        names[short] = name if name not in names.values() else short
    return names


def _language_models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    todo: list[type[BaseModel]] = [LanguageModel]
    while todo:
        model = todo.pop()
        found.append(model)
        todo.extend(model.__subclasses__())
    return found


def _kestra_type(model: type[BaseModel]) -> str | None:
    """The Kestra class a model stands for: its ``type``'s first Kestra name (tasks,
    triggers, conditions), or Kestra's input class for an input (``type: STRING``)."""
    field = model.model_fields.get("type")
    values = [str(v) for v in get_args(field.annotation)] if field else []
    kestra = next((v for v in values if v.startswith("io.kestra.")), None)
    if kestra is None and values and model.__name__.endswith("Input"):
        return f"{INPUTS_PACKAGE}.{model.__name__}"
    return kestra


def _refs_renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _refs_renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_refs_renamed(item, names) for item in value]
    if isinstance(value, str) and value.startswith("#/$defs/"):
        short = value.removeprefix("#/$defs/")
        return f"#/definitions/{names.get(short, short)}"
    return value


def _drop_not_supported(schema: dict[str, Any]) -> None:
    properties = schema.get("properties", {})
    for name in [n for n, p in properties.items() if p.get("x-not-supported-yet")]:
        del properties[name]
    # The server ignores a flow's revision: an editor has nothing to offer for it.
    properties.pop("revision", None)
