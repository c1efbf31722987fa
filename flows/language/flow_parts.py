"""The parts of a flow besides its tasks and triggers: outputs, concurrency, plugin
defaults, listeners, SLAs, and how a flow-level ``retry`` and ``pluginDefaults`` reach the
tasks, as Kestra applies them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .tasks import TASK_MODELS, BaseTask, LanguageModel, Retry, Task
from .triggers import TRIGGER_MODELS, Condition
from .triggers.conditions import CONDITION_MODELS
from .values import TASK_ID_PATTERN, Duration, labels_as_mapping, type_names


class FlowOutput(LanguageModel):
    """One of the flow's outputs: ``{{ outputs.<task>.vars.x }}`` rendered at the end."""

    id: str = Field(pattern=TASK_ID_PATTERN, description="Name of the output")
    type: str = Field("STRING", description="STRING, INT, FLOAT, BOOLEAN, JSON, FILE...")
    value: Any = Field(description="An expression or a value")
    description: str | None = None
    display_name: str | None = None
    required: bool = True


class Concurrency(LanguageModel):
    """Kestra's flow ``concurrency:``: a limit, and what happens to one run too many."""

    limit: int = Field(ge=1, description="Executions of this flow running at once")
    behavior: Literal["QUEUE", "CANCEL", "FAIL"] = Field(
        "QUEUE", description="QUEUE waits, CANCEL or FAIL ends the extra execution at once"
    )


class PluginDefault(LanguageModel):
    """``pluginDefaults``: values for every task, trigger or condition whose type is
    ``type`` or starts with it. Forced values win over the task's own."""

    type: str = Field(min_length=1, description="A full type name, or a prefix of type names")
    forced: bool = Field(False, description="Override what the task itself says")
    values: dict[str, Any] = Field(default_factory=dict)


class Listener(LanguageModel):
    """Deprecated by Kestra: tasks run once the execution has ended, when the conditions
    hold for it (ExecutionStatus...). They never change how the execution ended."""

    description: str | None = None
    conditions: list[Condition] = Field(default_factory=list)
    tasks: list[Task] = Field(min_length=1)


class Sla(LanguageModel):
    """A service level the execution must keep: MAX_DURATION (watched by the clock) or
    EXECUTION_ASSERTION (checked at each change while it runs). When it is broken, FAIL
    or CANCEL ends the execution, NONE only logs; ``labels`` are added either way."""

    id: str = Field(min_length=1)
    type: Literal["MAX_DURATION", "EXECUTION_ASSERTION"]
    behavior: Literal["FAIL", "CANCEL", "NONE"]
    labels: dict[str, str] = Field(default_factory=dict)
    duration: Duration | None = None
    assert_: str | None = Field(None, alias="assert")

    _labels_as_mapping = field_validator("labels", mode="before")(labels_as_mapping)

    @model_validator(mode="after")
    def _complete(self) -> Sla:
        if self.type == "MAX_DURATION" and (self.duration is None or self.duration <= timedelta(0)):
            raise ValueError("A MAX_DURATION SLA needs a positive duration, e.g. PT1H")
        if self.type == "EXECUTION_ASSERTION" and not self.assert_:
            raise ValueError("An EXECUTION_ASSERTION SLA needs an assert expression")
        return self


# --- pluginDefaults, applied to the YAML's data before it is validated ------------------

_MODELS: dict[str, type[LanguageModel]] = {
    name: model
    for model in (*TASK_MODELS, *TRIGGER_MODELS, *CONDITION_MODELS)
    for name in type_names(model)
}


def _keys(model: type[LanguageModel]) -> frozenset[str]:
    fields = model.model_fields
    return frozenset([*fields, *(f.alias for f in fields.values() if f.alias)])


_NOT_PLUGINS = frozenset({"pluginDefaults", "taskDefaults", "inputs", "outputs", "variables"})


def plugin_defaults_apply(data: dict[str, Any]) -> dict[str, Any]:
    """The flow's data with its ``pluginDefaults`` (or older ``taskDefaults``) merged into
    every plugin (a mapping with a ``type``) they name: the task's own values win, unless
    the default is ``forced``. A type matches by its full name, a prefix, or any of the
    other names Kestra gave the same type. Malformed defaults are left for validation."""
    declared = data.get("pluginDefaults", data.get("taskDefaults"))
    if not isinstance(declared, list) or not declared:
        return data
    defaults = [
        d
        for d in declared
        if isinstance(d, dict)
        and isinstance(d.get("type"), str)
        and isinstance(d.get("values"), dict)
    ]
    if not defaults:
        return data
    soft = [d for d in defaults if not d.get("forced")]
    forced = list(reversed([d for d in defaults if d.get("forced")]))  # the first one wins
    return {
        key: value if key in _NOT_PLUGINS else _with_defaults(value, soft, forced)
        for key, value in data.items()
    }


def _with_defaults(value: Any, soft: list[dict[str, Any]], forced: list[dict[str, Any]]) -> Any:
    if isinstance(value, list):
        return [_with_defaults(item, soft, forced) for item in value]
    if not isinstance(value, dict):
        return value
    value = {k: _with_defaults(v, soft, forced) for k, v in value.items()}
    kind = value.get("type")
    if not isinstance(kind, str):
        return value
    model = _MODELS.get(kind)
    names = type_names(model) if model else (kind,)
    for default in soft:
        if values := _applying(default, names, model):
            value = _merged(values, value)
    for default in forced:
        if values := _applying(default, names, model):
            value = _merged(value, values)
    return value


def _applying(
    default: dict[str, Any], names: Iterable[str], model: type[LanguageModel] | None
) -> dict[str, Any]:
    """The values of ``default`` for a plugin of these type names: all of them when it
    names the type, only those the type has when it names a prefix (as Kestra, which
    validates a default against its type only when it names one)."""
    wanted: str = default["type"]
    if wanted in names:
        return dict(default["values"])
    if model is None or not any(name.startswith(wanted) for name in names):
        return {}
    known = _keys(model)
    return {k: v for k, v in default["values"].items() if k in known}


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, mappings merged key by key."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


# --- a flow-level retry ------------------------------------------------------------------


def retry_spread(tasks: list[Any], retry: Retry) -> list[Any]:
    """Kestra's flow ``retry``: every task that runs (not a flowable) without a retry of
    its own, or of a flowable around it, retries as the flow says."""
    return [_task_with_retry(task, retry) for task in tasks]


def _task_with_retry(task: BaseTask, retry: Retry) -> BaseTask:
    if task.retry is not None:
        return task  # its own, or its flowable's for all its children
    if not task.flowable:
        return task.model_copy(update={"retry": retry})
    update: dict[str, Any] = {}
    for name in task.child_properties:
        children = getattr(task, name)
        if isinstance(children, dict):
            update[name] = {k: retry_spread(v, retry) for k, v in children.items()}
        elif children:
            update[name] = retry_spread(children, retry)
    return task.model_copy(update=update)
