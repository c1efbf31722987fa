"""Kestra's ``taskDefaults`` (the older name of ``pluginDefaults``): values given once for
every task, trigger or condition of a type. Applied to the YAML's data before it is
validated, so that a default completes a task exactly as if it were written in it."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import Field

from .tasks.base import LanguageModel

# Top-level keys holding no plugins: what they hold is data, never completed.
_NOT_PLUGINS = frozenset({"taskDefaults", "pluginDefaults", "inputs", "outputs", "variables"})


class PluginDefault(LanguageModel):
    """One entry: the type it applies to (a full name, or a prefix such as
    ``io.kestra.plugin.scripts``), the values, and whether they override the task's."""

    type: str = Field(min_length=1, description="A type name, or a prefix of type names")
    values: dict[str, Any] = Field(default_factory=dict, description="Properties to set")
    forced: bool = Field(False, description="Override what the task itself sets")


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _applies(default: dict[str, Any], plugin_type: str) -> bool:
    wanted = default.get("type")
    return isinstance(wanted, str) and bool(wanted) and plugin_type.startswith(wanted)


def _completed(value: Any, defaults: list[dict[str, Any]]) -> Any:
    if isinstance(value, list):
        return [_completed(item, defaults) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: _completed(item, defaults) for key, item in value.items()}
    plugin_type = value.get("type")
    if not isinstance(plugin_type, str) or "." not in plugin_type:
        return value
    for default in defaults:  # the later entries win, as in Kestra
        values = default.get("values")
        if not _applies(default, plugin_type) or not isinstance(values, dict):
            continue
        value = _merged(value, values) if default.get("forced") else _merged(values, value)
    return value


def plugin_defaults_apply(data: Any) -> Any:
    """The flow's data with its ``taskDefaults`` merged into every task, trigger and
    condition whose type they name: deeply, the task's own values first unless
    ``forced``. Malformed entries are left for validation to name."""
    if not isinstance(data, dict):
        return data
    declared = data.get("taskDefaults")
    if not isinstance(declared, list):
        return data
    defaults = [entry for entry in declared if isinstance(entry, dict)]
    return {
        key: value if key in _NOT_PLUGINS else _completed(value, defaults)
        for key, value in data.items()
    }
