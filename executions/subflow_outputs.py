"""The outputs a Subflow task publishes once its child execution ended.

``outputs.<subflow>.executionId``, ``.state`` and ``.outputs``: the child flow's declared
outputs. A child flow that declares none may instead have its values picked by the
Subflow task's own ``outputs:`` map (Kestra before 0.15, still read by Kestra): each value
is rendered in the child execution's context (its inputs, its tasks' outputs) after it
ended, e.g. ``extracted: "{{ outputs.last_step.value }}"``.
"""

from __future__ import annotations

from typing import Any

from flows.expressions import render_value
from flows.language.tasks import SubflowTask

from .context import render_context
from .models import Execution


class SubflowOutputsFailed(Exception):
    """The Subflow task's ``outputs:`` could not be rendered in its child's context."""


def subflow_outputs(task: SubflowTask, child: Execution) -> dict[str, Any]:
    outputs = task.outputs_after(child)
    definition = child.flow_revision.definition
    if not task.outputs or definition.outputs or not child.is_terminal:
        return outputs
    try:
        context = render_context(child, definition, list(child.task_runs.all()), None)
        outputs["outputs"] = render_value(dict(task.outputs), context)
    except Exception as exc:  # an expression error, whatever it is, fails the Subflow task
        raise SubflowOutputsFailed(
            f"Subflow {child.namespace}.{child.flow_id}: its outputs could not be rendered "
            f"in execution {child.pk}: {exc}"
        ) from exc
    return outputs
