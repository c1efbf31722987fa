"""The real ``manage.py clock`` process fires a schedule with seconds."""

from __future__ import annotations

import pytest

from tests.conftest import FlowsiteProcess, wait_until
from tests.triggers.helpers import executions_of, save, schedule_flow, trigger_of


@pytest.mark.django_db(transaction=True)
def test_the_clock_process_fires_a_schedule_with_seconds_within_a_few_seconds(
    clock: FlowsiteProcess,
) -> None:
    flow = save(schedule_flow("*/2 * * * * *", extra="withSeconds: true", flow_id="seconds"))

    # Armed by the first tick that sees it, then a slot every 2 seconds.
    wait_until(lambda: len(executions_of(flow)) >= 2, timeout=15, what="two scheduled runs")

    first, second = executions_of(flow)[:2]
    assert trigger_of(first)["type"] == "io.kestra.plugin.core.trigger.Schedule"
    assert trigger_of(first)["variables"]["next"] == trigger_of(second)["variables"]["date"]
    assert all(int(trigger_of(e)["variables"]["date"][17:19]) % 2 == 0 for e in (first, second))
