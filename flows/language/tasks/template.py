"""Kestra's deprecated Template task. Kestra keeps templates behind a switch that is off
by default (``kestra.templates.enabled``); with it off, a flow using one saves, and the
task fails when it runs. Flowsite has no templates at all, and does the same."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..states import State
from .base import BaseTask, Outcome, Runtime


class TemplateTask(BaseTask):
    """Would run a stored template's tasks; fails: Flowsite has no templates."""

    type: Literal["io.kestra.plugin.core.flow.Template", "io.kestra.core.tasks.flows.Template"]
    namespace: str = Field(description="Namespace of the template")
    template_id: str = Field(description="Id of the template")
    args: dict[str, str] = Field(default_factory=dict, description="Values for the template")

    def run(self, runtime: Runtime) -> Outcome:
        message = (
            f"Template {self.namespace}.{self.template_id} cannot run: templates are disabled "
            "(deprecated in Kestra, off unless kestra.templates.enabled; Flowsite has none). "
            "Move the template's tasks into a flow and call it with a Subflow task."
        )
        runtime.log(message, "ERROR")
        return Outcome(State.FAILED, error=message)
