"""The executions an execution is related to, for its page: the parent that called it as
a Subflow and the children it called, the original it replays and its own replays, and
the upstream execution whose end fired its Flow trigger.

One query finds them all, narrowed to what the reader may see: a related execution in
a namespace the reader cannot view is left out, not even named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from accounts.permissions import visible

from .models import Execution

LIMIT = 50  # replays or children listed at most
FLOW_TRIGGER = "io.kestra.plugin.core.trigger.Flow"


@dataclass
class ExecutionLinks:
    parent: Execution | None = None
    children: list[Execution] = field(default_factory=list)
    original: Execution | None = None
    original_gone: bool = False  # the replayed execution was deleted (or is not visible)
    replays: list[Execution] = field(default_factory=list)
    upstream: Execution | None = None  # the execution whose end fired a Flow trigger
    more: bool = False  # more children or replays than listed


def upstream_id(execution: Execution) -> str:
    """The execution a Flow trigger's ``trigger.executionId`` names, if this one was
    started by a Flow trigger."""
    trigger = execution.trigger or {}
    variables = trigger.get("variables") or {}
    kind = str(trigger.get("type", ""))
    if kind != FLOW_TRIGGER and not kind.endswith(".Flow"):
        return ""
    value = variables.get("executionId") if isinstance(variables, dict) else None
    return value if isinstance(value, str) else ""


def execution_links(execution: Execution, user: Any) -> ExecutionLinks:
    parent_id = execution.parent_task_run.execution_id if execution.parent_task_run else ""
    upstream = upstream_id(execution)
    condition = Q(parent_task_run__execution_id=execution.pk) | Q(original_id=execution.pk)
    for pk in (parent_id, execution.original_id, upstream):
        if pk:
            condition |= Q(pk=pk)
    related = list(
        visible(Execution.objects.filter(condition), user)
        .exclude(pk=execution.pk)
        .select_related("parent_task_run")
        .only(
            "id", "state", "namespace", "flow_id", "original_id", "created_at",
            "parent_task_run__execution_id", "parent_task_run__task_id",
        )
        .order_by("created_at")[: 2 * LIMIT + 3]
    )  # fmt: skip
    links = ExecutionLinks()
    for other in related:
        if other.pk == parent_id:
            links.parent = other
        if other.pk == execution.original_id:
            links.original = other
        if other.pk == upstream:
            links.upstream = other
        run = other.parent_task_run
        if run is not None and run.execution_id == execution.pk:
            links.children.append(other)
        if other.original_id == execution.pk:
            links.replays.append(other)
    links.original_gone = bool(execution.original_id) and links.original is None
    links.more = len(links.children) > LIMIT or len(links.replays) > LIMIT
    links.children, links.replays = links.children[:LIMIT], links.replays[:LIMIT]
    return links
