"""Schedules under a clock the tests move by hand: ``clock_tick(now)``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.triggers.helpers import (
    T0,
    at,
    executions_of,
    save,
    schedule_flow,
    slot_dates,
    trigger_of,
)
from triggers.clock import clock_tick
from triggers.models import TriggerFiring, TriggerState

pytestmark = pytest.mark.django_db

EVERY_QUARTER = "*/15 * * * *"


def test_the_first_tick_arms_a_schedule_and_the_slot_fires_once_its_time_has_come() -> None:
    flow = save(schedule_flow(EVERY_QUARTER))
    clock_tick(T0)  # 10:05: arms it for 10:15
    clock_tick(at(10, 14, 59))
    assert executions_of(flow) == []

    clock_tick(at(10, 15, 0) + timedelta(milliseconds=200))

    [execution] = executions_of(flow)
    assert execution.trigger == {
        "id": "every",
        "type": "io.kestra.plugin.core.trigger.Schedule",
        "variables": {
            "date": "2030-01-01T10:15:00+00:00",
            "next": "2030-01-01T10:30:00+00:00",
            "previous": "2030-01-01T10:00:00+00:00",
        },
    }
    assert TriggerState.objects.get(flow_id="scheduled").next_date == at(10, 30)


def test_two_ticks_for_the_same_slot_make_one_execution() -> None:
    flow = save(schedule_flow(EVERY_QUARTER))
    clock_tick(T0)
    clock_tick(at(10, 15, 1))
    clock_tick(at(10, 15, 1))
    assert len(executions_of(flow)) == 1


def test_a_second_clock_that_read_the_schedule_before_the_first_fired_starts_nothing() -> None:
    flow = save(schedule_flow(EVERY_QUARTER))
    clock_tick(T0)
    clock_tick(at(10, 15, 1))
    # Another host's clock still believes 10:15 is due: the firing's unique key refuses it.
    TriggerState.objects.filter(flow_id="scheduled").update(next_date=at(10, 15))
    clock_tick(at(10, 15, 2))
    assert len(executions_of(flow)) == 1
    assert TriggerFiring.objects.filter(flow_id="scheduled").count() == 1


def test_the_cron_is_read_in_the_trigger_time_zone() -> None:
    flow = save(schedule_flow("0 9 * * *", extra="timezone: Europe/Paris"))
    clock_tick(at(7, 0))
    clock_tick(at(8, 0, 1))  # 09:00 in Paris, in winter
    [execution] = executions_of(flow)
    assert trigger_of(execution)["variables"]["date"] == "2030-01-01T09:00:00+01:00"


@pytest.mark.parametrize(
    ("policy", "fired"),
    [
        ("ALL", ["10:15", "10:30", "10:45", "11:00", "11:15"]),
        ("LAST", ["11:15"]),
        ("NONE", []),
    ],
)
def test_missed_slots_are_recovered_as_the_policy_says(policy: str, fired: list[str]) -> None:
    flow = save(schedule_flow(EVERY_QUARTER, extra=f"recoverMissedSchedules: {policy}"))
    clock_tick(T0)
    clock_tick(at(11, 20))  # the clock was down from 10:05 to 11:20

    assert [d[11:16] for d in slot_dates(flow)] == fired
    clock_tick(at(11, 30, 1))  # back on time: the next slot fires whatever the policy
    assert [d[11:16] for d in slot_dates(flow)] == [*fired, "11:30"]


def test_recovering_all_is_the_default_as_in_kestra() -> None:
    flow = save(schedule_flow(EVERY_QUARTER))
    clock_tick(T0)
    clock_tick(at(11, 0, 30))
    assert len(executions_of(flow)) == 4


def test_a_trigger_disabled_in_the_yaml_never_fires() -> None:
    flow = save(schedule_flow(EVERY_QUARTER, extra="disabled: true"))
    for minute in range(0, 60, 5):
        clock_tick(at(11, minute, 1))
    assert executions_of(flow) == []


def test_a_disabled_flow_fires_none_of_its_schedules() -> None:
    flow = save(
        schedule_flow(EVERY_QUARTER).replace("namespace: dev", "namespace: dev\ndisabled: true")
    )
    clock_tick(T0)
    clock_tick(at(10, 15, 1))
    assert executions_of(flow) == []


def test_enabling_a_trigger_again_skips_the_slots_missed_while_it_was_off() -> None:
    flow = save(schedule_flow(EVERY_QUARTER))
    clock_tick(T0)
    TriggerState.objects.get(flow_id="scheduled").set_disabled(True)
    clock_tick(at(10, 15, 1))
    clock_tick(at(11, 0, 1))

    TriggerState.objects.get(flow_id="scheduled").set_disabled(False)
    clock_tick(at(11, 5))  # re-armed for 11:15
    assert executions_of(flow) == []
    clock_tick(at(11, 15, 1))
    assert [d[11:16] for d in slot_dates(flow)] == ["11:15"]


def test_changing_the_cron_re_arms_the_schedule() -> None:
    flow = save(schedule_flow(EVERY_QUARTER))
    clock_tick(T0)  # armed for 10:15
    save(schedule_flow("0 * * * *"))
    clock_tick(at(10, 16))  # re-armed for 11:00; 10:15 belongs to the old cron
    clock_tick(at(10, 59))
    assert executions_of(flow) == []
    clock_tick(at(11, 0, 1))
    assert [d[11:16] for d in slot_dates(flow)] == ["11:00"]


def test_editing_something_else_keeps_the_schedule_armed() -> None:
    flow = save(schedule_flow(EVERY_QUARTER))
    clock_tick(T0)
    save(schedule_flow(EVERY_QUARTER).replace("message: hi", "message: hello"))
    clock_tick(at(10, 15, 1))
    assert len(executions_of(flow)) == 1


def test_removing_the_trigger_or_deleting_the_flow_forgets_its_state() -> None:
    flow = save(schedule_flow(EVERY_QUARTER))
    assert TriggerState.objects.filter(flow_id="scheduled").exists()
    flow.soft_delete()
    assert not TriggerState.objects.filter(flow_id="scheduled").exists()
    clock_tick(T0)
    clock_tick(at(10, 15, 1))
    assert executions_of(flow) == []


def test_a_schedule_with_seconds_fires_every_slot_on_time() -> None:
    flow = save(schedule_flow("*/2 * * * * *", extra="withSeconds: true"))
    clock_tick(at(10, 0, 0))
    for second in range(1, 7):
        clock_tick(at(10, 0, second))
    assert [d[17:19] for d in slot_dates(flow)] == ["02", "04", "06"]


def test_inputs_of_a_schedule_are_rendered_with_the_trigger(settings: Any) -> None:
    flow = save(
        schedule_flow(EVERY_QUARTER, extra='inputs:\n  day: "{{ trigger.date }}"').replace(
            "tasks:", "inputs:\n  - id: day\n    type: STRING\n\ntasks:"
        )
    )
    clock_tick(T0)
    clock_tick(at(10, 15, 1))
    [execution] = executions_of(flow)
    assert execution.inputs == {"day": "2030-01-01T10:15:00+00:00"}


def test_an_execution_that_cannot_start_is_remembered_and_not_retried() -> None:
    flow = save(
        schedule_flow(EVERY_QUARTER).replace(
            "tasks:", "inputs:\n  - id: count\n    type: INT\n\ntasks:"
        )
    )
    clock_tick(T0)
    clock_tick(at(10, 15, 1))  # the required input has no value
    clock_tick(at(10, 15, 2))
    assert executions_of(flow) == []
    [firing] = TriggerFiring.objects.filter(flow_id="scheduled")
    assert "count" in firing.error and firing.execution_id == ""


def test_the_older_backfill_property_runs_the_past_slots_once() -> None:
    flow = save(
        schedule_flow(
            "0 * * * *",
            extra="backfill:\n  start: 2030-01-01T07:00:00Z",
        )
    )
    clock_tick(T0)  # arms it, and plans 07:00, 08:00, 09:00 and 10:00
    clock_tick(T0 + timedelta(seconds=1))
    assert [d[11:16] for d in slot_dates(flow)] == ["07:00", "08:00", "09:00", "10:00"]


def test_the_clock_starting_brings_every_flow_s_triggers_up_to_date() -> None:
    from triggers.states import trigger_states_sync_all

    flow = save(schedule_flow(EVERY_QUARTER))
    TriggerState.objects.all().delete()  # as for a flow saved before the triggers app
    TriggerState.objects.create(
        namespace="gone", flow_id="gone", trigger_id="x", type="t", definition={}
    )
    trigger_states_sync_all()
    assert list(TriggerState.objects.values_list("flow_id", "trigger_id")) == [
        ("scheduled", "every")
    ]
    clock_tick(T0)
    clock_tick(at(10, 15, 1))
    assert len(executions_of(flow)) == 1
