"""The flow language's JSON Schema, generated from the same models that validate flows.

Served at Kestra's path for it, so the browser editor and VS Code's YAML extension
autocomplete and check flows from the one source of truth. Shaped as Kestra's: its
``definitions`` are keyed by Kestra's class names (``io.kestra.plugin.scripts.python.
Script``), which Kestra's tooling looks task types up by; the flow itself is both the
root (what Flowsite's editor reads) and ``definitions['io.kestra.core.models.flows.Flow']``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, get_args

from pydantic import BaseModel

from .language.flow import FlowDefinition
from .language.tasks import LanguageModel

SCHEMA_PATH = "/api/v1/plugins/schemas/flow"
FLOW_CLASS = "io.kestra.core.models.flows.Flow"
INPUTS_PACKAGE = "io.kestra.core.models.flows.input"
# A union of all the members of a kind, named as Kestra names the kind's base class.
UNION_NAMES = (
    (".flows.input.", "io.kestra.core.models.flows.Input"),
    (".condition", "io.kestra.core.models.conditions.Condition"),
    (".trigger.", "io.kestra.core.models.triggers.AbstractTrigger"),
    ("io.kestra.", "io.kestra.core.models.tasks.Task"),
)
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
    root, kestra = _unions_shared(root, kestra)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_PATH,
        **root,
        "title": "Flowsite flow",
        "description": "A flow in Kestra's language, as Flowsite runs it.",
        "definitions": kestra,
    }


def _unions_shared(
    root: dict[str, Any], definitions: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every flowable holds any task: the union of all task types, written out in each
    of their ``tasks``, ``errors``, ``finally``... made the schema seven times its size.
    A large union met more than once becomes one definition, referenced where it stood."""
    counts: dict[str, int] = {}

    def count(value: Any) -> None:
        if isinstance(value, dict):
            if _large_union(value):
                key = json.dumps(value, sort_keys=True)
                counts[key] = counts.get(key, 0) + 1
            for item in value.values():
                count(item)
        elif isinstance(value, list):
            for item in value:
                count(item)

    count(root)
    count(definitions)
    shared = {
        key: _union_name(key, index)
        for index, key in enumerate(k for k, n in counts.items() if n > 1)
    }

    def replaced(value: Any) -> Any:
        if isinstance(value, dict):
            if _large_union(value) and (key := json.dumps(value, sort_keys=True)) in shared:
                return {"$ref": f"#/definitions/{shared[key]}"}
            return {k: replaced(v) for k, v in value.items()}
        if isinstance(value, list):
            return [replaced(item) for item in value]
        return value

    definitions = {name: replaced(body) for name, body in definitions.items()}
    for key, name in shared.items():
        definitions[name] = json.loads(key)
    return replaced(root), definitions


def _large_union(value: dict[str, Any]) -> bool:
    branches = value.get("oneOf") or value.get("anyOf") or []
    return len(branches) >= 8 and all(isinstance(b, dict) and "$ref" in b for b in branches)


def _union_name(key: str, index: int) -> str:
    """Kestra's name for the kind of thing a shared union holds, by its members' names."""
    union = json.loads(key)
    refs = [branch["$ref"] for branch in union.get("oneOf") or union.get("anyOf")]
    for marker, name in UNION_NAMES:
        if all(marker in ref for ref in refs):
            return name
    return f"flowsite.Union{index}"


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
