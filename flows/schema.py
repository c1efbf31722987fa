"""The flow language's JSON Schema, generated from the same models that validate flows.

Served at Kestra's path for it, so the browser editor and VS Code's YAML extension
autocomplete and check flows from the one source of truth.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .language.flow import FlowDefinition

SCHEMA_PATH = "/api/v1/plugins/schemas/flow"


@lru_cache(maxsize=1)
def flow_schema() -> dict[str, Any]:
    schema = FlowDefinition.model_json_schema(by_alias=True, mode="validation")
    _drop_not_supported(schema)
    for definition in schema.get("$defs", {}).values():
        _drop_not_supported(definition)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_PATH,
        **schema,
        "title": "Flowsite flow",
        "description": "A flow in Kestra's language, as Flowsite runs it.",
    }


def _drop_not_supported(schema: dict[str, Any]) -> None:
    properties = schema.get("properties", {})
    for name in [n for n, p in properties.items() if p.get("x-not-supported-yet")]:
        del properties[name]
    # The server ignores a flow's revision: an editor has nothing to offer for it.
    properties.pop("revision", None)
