"""A flow as Kestra writes it, and the one entry point that reads flow YAML."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Annotated, Any

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from .flow_parts import (
    Concurrency,
    FlowOutput,
    Listener,
    PluginDefault,
    Sla,
    plugin_defaults_apply,
    retry_spread,
)
from .inputs import INPUT_TYPES, Input, located_error
from .source import FlowError, ParsedSource, YamlSourceError, format_path, parse_yaml
from .tasks import (
    TASK_TYPES,
    BaseTask,
    LanguageModel,
    NotSupportedYet,
    Retry,
    ScalarText,
    SubflowTask,
    Task,
)
from .triggers import TRIGGER_UNION_TAGS, Triggers, union_kind
from .values import FLOW_ID_PATTERN, NAMESPACE_PATTERN, labels_as_mapping


class FlowDefinition(LanguageModel):
    """A Kestra flow: an id in a namespace, and the tasks it runs in order."""

    id: str = Field(
        pattern=FLOW_ID_PATTERN, max_length=100, description="Unique id in its namespace"
    )
    namespace: str = Field(
        pattern=NAMESPACE_PATTERN, max_length=150, description="Dotted lowercase, e.g. company.team"
    )
    description: str | None = None
    labels: Annotated[
        dict[str, str],
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "object", "additionalProperties": ScalarText},
                    {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"key": {"type": "string"}, "value": ScalarText},
                            "required": ["key"],
                        },
                    },
                ]
            }
        ),
    ] = Field(default_factory=dict, description="Key/value labels")
    variables: dict[str, Any] = Field(default_factory=dict, description="Flow variables")
    disabled: bool = False
    revision: int | None = Field(
        None, exclude=True, description="Ignored: the server numbers revisions"
    )
    tasks: list[Task] = Field(min_length=1, description="The tasks, run in order")
    _task_index: dict[str, BaseTask] | None = PrivateAttr(None)
    _parent_index: dict[str, BaseTask] | None = PrivateAttr(None)

    inputs: list[Input] = Field(
        default_factory=list, description="Values asked for when a run starts, typed"
    )
    outputs: list[FlowOutput] = Field(
        default_factory=list, description="Values the execution publishes when it ends"
    )
    triggers: Triggers = Field(
        default_factory=list, description="What starts the flow: Schedule, Webhook, Flow"
    )
    errors: list[Task] = Field(
        default_factory=list, description="Tasks run when the execution fails"
    )
    finally_: list[Task] = Field(
        default_factory=list, alias="finally", description="Tasks run last, whatever happened"
    )
    after_execution: list[Task] = Field(
        default_factory=list, description="Tasks run once the execution has ended"
    )
    concurrency: Concurrency | None = Field(
        None, description="How many executions of this flow may run at once"
    )
    deleted: bool = Field(False, description="A flow saved deleted, as Kestra exports them")
    plugin_defaults: list[PluginDefault] = Field(
        default_factory=list, description="Default values for tasks and triggers by type"
    )
    task_defaults: list[PluginDefault] = Field(
        default_factory=list, description="Older name of pluginDefaults"
    )
    listeners: list[Listener] = Field(
        default_factory=list, description="Deprecated: tasks run after the end, on conditions"
    )
    retry: Retry | None = Field(None, description="The retry of every task without its own")
    sla: list[Sla] = Field(default_factory=list, description="Service levels of its executions")
    checks: NotSupportedYet = None
    worker_group: NotSupportedYet = None

    _labels_as_mapping = field_validator("labels", mode="before")(labels_as_mapping)

    @model_validator(mode="after")
    def _flow_retry_reaches_tasks(self) -> FlowDefinition:
        if self.retry is not None:
            for name in ("tasks", "errors", "finally_", "after_execution"):
                object.__setattr__(self, name, retry_spread(getattr(self, name), self.retry))
            listeners = [
                listener.model_copy(update={"tasks": retry_spread(listener.tasks, self.retry)})
                for listener in self.listeners
            ]
            object.__setattr__(self, "listeners", listeners)
        return self

    @property
    def listener_tasks(self) -> list[BaseTask]:
        return [task for listener in self.listeners for task in listener.tasks]

    @property
    def all_tasks(self) -> list[BaseTask]:
        """The top-level tasks of every list: tasks, errors, finally, listeners, after."""
        lists = (self.tasks, self.errors, self.finally_, self.listener_tasks, self.after_execution)
        return [task for tasks in lists for task in tasks]

    @model_validator(mode="after")
    def _task_ids_are_unique(self) -> FlowDefinition:
        seen: set[str] = set()
        for task in tasks_walk(self.all_tasks):
            if task.id in seen:
                raise ValueError(f"Task id '{task.id}' is used more than once")
            seen.add(task.id)
        return self

    @model_validator(mode="after")
    def _input_ids_are_unique(self) -> FlowDefinition:
        seen: set[str] = set()
        for index, flow_input in enumerate(self.inputs):
            if flow_input.id in seen:
                raise located_error(
                    f"Input id '{flow_input.id}' is used more than once", "inputs", index, "id"
                )
            seen.add(flow_input.id)
        return self

    def task_as_run(self, task_id: str) -> BaseTask:
        """The task as a worker runs it: with no ``retry`` of its own, it takes the one of
        the nearest flowable task around it that has one (Kestra: a flowable's retry
        retries its failed tasks)."""
        task = self.task(task_id)
        if task.retry is not None or task.flowable:
            return task
        if self._parent_index is None:
            self._parent_index = {
                child.id: parent
                for parent in tasks_walk(self.tasks + self.errors + self.finally_)
                for children in parent.child_task_lists()
                for child in children
            }
        parent = self._parent_index.get(task_id)
        while parent is not None and parent.retry is None:
            parent = self._parent_index.get(parent.id)
        return task if parent is None else task.model_copy(update={"retry": parent.retry})

    def task(self, task_id: str) -> BaseTask:
        """A task anywhere in the flow: in the tasks, a flowable's branches, errors or finally."""
        if self._task_index is None:
            self._task_index = {t.id: t for t in tasks_walk(self.all_tasks)}
        return self._task_index[task_id]


def tasks_walk(tasks: Sequence[BaseTask]) -> Iterator[BaseTask]:
    """Each task and, depth first, every task inside it (a flowable's branches)."""
    for task in tasks:
        yield task
        for children in task.child_task_lists():
            yield from tasks_walk(children)


FlowDefinition.model_rebuild()


class FlowInvalid(Exception):
    """The YAML is broken or does not describe a valid flow; ``errors`` says where."""

    def __init__(self, errors: list[FlowError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@lru_cache(maxsize=256)
def parse_flow(source: str) -> FlowDefinition:
    """Read flow YAML into a FlowDefinition, or raise FlowInvalid with every error.

    The one way to get a parsed flow. Cached by the text, not by a row id (ids can be
    reused: SQLite, test rollbacks); a FlowDefinition is frozen, so sharing it is safe.
    """
    try:
        parsed = parse_yaml(source)
    except YamlSourceError as exc:
        raise FlowInvalid(exc.errors) from exc
    if not isinstance(parsed.data, dict):
        raise FlowInvalid(
            [FlowError("A flow must be a YAML mapping with id, namespace and tasks", 1, 1)]
        )
    try:
        return FlowDefinition.model_validate(plugin_defaults_apply(parsed.data))
    except ValidationError as exc:
        raise FlowInvalid(_located_errors(exc, parsed)) from exc


def parse_new_flow(source: str) -> FlowDefinition:
    """``parse_flow``, then the rules a flow must meet to be saved that a revision stored
    before them need not meet to run: today, no Subflow calls its own flow (a run would
    start executions without end; a call that comes back round through other flows is
    stopped at run time, by FLOWSITE_SUBFLOW_MAX_DEPTH)."""
    definition = parse_flow(source)
    parsed = parse_yaml(source)
    errors = []
    for task, path in _tasks_located(
        [
            ("tasks", definition.tasks),
            ("errors", definition.errors),
            ("finally", definition.finally_),
        ]
    ):
        if isinstance(task, SubflowTask) and (task.namespace, task.flow_id) == (
            definition.namespace,
            definition.id,
        ):
            key = "flowId" if (*path, "flowId") in parsed.keys else "flow_id"
            position = parsed.position((*path, key))
            message = (
                f"Subflow task '{task.id}' calls its own flow {definition.namespace}."
                f"{definition.id}: each run would start another without end"
            )
            errors.append(
                FlowError(message, position.line, position.column, format_path((*path, key)))
            )
    if errors:
        raise FlowInvalid(errors)
    return definition


def _tasks_located(
    lists: Sequence[tuple[str | int, Sequence[BaseTask]]], at: tuple[str | int, ...] = ()
) -> Iterator[tuple[BaseTask, tuple[str | int, ...]]]:
    """Each task with its path in the YAML (``tasks[0].then[1]``), depth first."""
    for name, tasks in lists:
        for index, task in enumerate(tasks):
            path = (*at, name, index)
            yield task, path
            for prop in task.child_properties:
                alias = type(task).model_fields[prop].alias or prop
                value = getattr(task, prop)
                if isinstance(value, dict):
                    yield from _tasks_located(list(value.items()), (*path, alias))
                else:
                    yield from _tasks_located([(alias, value)], path)


def _located_errors(exc: ValidationError, parsed: ParsedSource) -> list[FlowError]:
    errors = []
    seen_paths: set[tuple[str | int, ...]] = set()
    for error in exc.errors():
        path = _strip_union_tags(error["loc"], parsed)
        path = (*path, *(error.get("ctx") or {}).get("at", ()))  # see inputs.located_error
        if error["type"] == "union_tag_invalid":
            path = (*path, "type")  # the unknown name itself is what to point at
        if path in seen_paths:  # one message per place: a union reports each branch
            continue
        seen_paths.add(path)
        kind = error["type"]
        at_key = kind in {"extra_forbidden", "value_error"} and _is_not_yet(error)
        position = parsed.position(path, at_key=at_key or kind == "extra_forbidden")
        errors.append(
            FlowError(_message(error, path), position.line, position.column, format_path(path))
        )
    errors.sort(key=lambda e: (e.line, e.column))
    return errors


_TYPE_NAMES = {"str", "int", "float", "bool", "dict", "list", "none", "function-after"}


def _is_not_yet(error: ErrorDetails) -> bool:
    return "not supported yet" in error.get("msg", "")


def _strip_union_tags(loc: tuple[int | str, ...], parsed: ParsedSource) -> tuple[str | int, ...]:
    """pydantic puts union branches in the location (a task type, ``list[str]``); users
    never wrote those, so only parts that exist in the YAML, or a missing last key, stay."""
    path: list[str | int] = []
    for index, part in enumerate(loc):
        candidate = (*path, part)
        is_last = index == len(loc) - 1
        if candidate in parsed.values or candidate in parsed.keys:
            path.append(part)
        elif isinstance(part, str) and (
            part in TASK_TYPES
            or part in TRIGGER_UNION_TAGS
            or part in INPUT_TYPES
            or "[" in part
            or part in _TYPE_NAMES
        ):
            continue
        elif is_last or isinstance(part, str):
            path.append(part)
    return tuple(path)


def _message(error: ErrorDetails, path: tuple[str | int, ...]) -> str:
    kind = error["type"]
    name = path[-1] if path else "flow"
    if kind == "missing":
        return f"Missing required property '{name}'"
    if kind == "extra_forbidden":
        return f"Unknown property '{name}'"
    if kind == "union_tag_invalid":
        kind_of = "input" if path[:1] == ("inputs",) else union_kind(path)
        return f"Unknown {kind_of} type '{error['ctx']['tag']}'"
    if kind == "union_tag_not_found":
        return "Missing required property 'type'"
    if kind == "string_pattern_mismatch":
        return _pattern_message(path, error["input"])
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"'{name}' {message}" if message.startswith("is not supported yet") else message
    return f"'{name}': {error['msg']}"


def _pattern_message(path: tuple[str | int, ...], value: object) -> str:
    if path == ("namespace",):
        return (
            f"Invalid namespace '{value}': use lowercase letters, digits, '-' and '_', "
            "in dot-separated parts such as company.team"
        )
    allowed = (
        "letters, digits, '.', '-' or '_'" if path == ("id",) else "letters, digits, '-' or '_'"
    )
    return f"Invalid id '{value}': start with a letter or digit, then only {allowed}"
