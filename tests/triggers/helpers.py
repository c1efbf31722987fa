"""Flows with triggers, and a clock the tests move by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from textwrap import dedent, indent
from typing import Any

from executions.models import Execution
from flows.models import Flow

T0 = datetime(2030, 1, 1, 10, 5, tzinfo=UTC)  # the first tick of most tests: it arms


def at(hour: int, minute: int, second: int = 0, day: int = 1) -> datetime:
    return datetime(2030, 1, day, hour, minute, second, tzinfo=UTC)


def triggered_flow(triggers: str, *, flow_id: str = "scheduled", namespace: str = "dev") -> str:
    return (
        f"id: {flow_id}\nnamespace: {namespace}\n\ntasks:\n"
        "  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n\n"
        f"triggers:\n{indent(dedent(triggers).strip(), '  ')}\n"
    )


def schedule_flow(cron: str, *, extra: str = "", flow_id: str = "scheduled", **kwargs: Any) -> str:
    trigger = f"""
        - id: every
          type: io.kestra.plugin.core.trigger.Schedule
          cron: "{cron}"
    """
    return triggered_flow(dedent(trigger) + indent(dedent(extra), "  "), flow_id=flow_id, **kwargs)


def save(source: str) -> Flow:
    return Flow.save_source(source)


def executions_of(flow: Flow) -> list[Execution]:
    return list(
        Execution.objects.filter(namespace=flow.namespace, flow_id=flow.flow_id).order_by(
            "created_at"
        )
    )


def trigger_of(execution: Execution) -> dict[str, Any]:
    """What started ``execution``; fails the test if no trigger did."""
    assert execution.trigger is not None, f"{execution} was not triggered"
    return execution.trigger


def slot_dates(flow: Flow) -> list[str]:
    return sorted(trigger_of(e)["variables"]["date"] for e in executions_of(flow))
