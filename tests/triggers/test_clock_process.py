"""The real ``manage.py clock`` process fires a schedule with seconds."""

from __future__ import annotations

import pytest

from tests.conftest import FlowsiteProcess, wait_until
from tests.triggers.helpers import executions_of, save, schedule_flow


@pytest.mark.django_db(transaction=True)
def test_the_clock_process_fires_a_schedule_with_seconds_within_a_few_seconds(
    clock: FlowsiteProcess,
) -> None:
    flow = save(schedule_flow("*/2 * * * * *", extra="withSeconds: true", flow_id="seconds"))

    # Armed by the first tick that sees it, then a slot every 2 seconds.
    wait_until(lambda: len(executions_of(flow)) >= 2, timeout=15, what="two scheduled runs")

    first, second = executions_of(flow)[:2]
    assert first.trigger["type"] == "io.kestra.plugin.core.trigger.Schedule"
    assert first.trigger["variables"]["next"] == second.trigger["variables"]["date"]
    assert all(int(e.trigger["variables"]["date"][17:19]) % 2 == 0 for e in (first, second))
