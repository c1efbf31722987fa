"""Triggers as Kestra writes them: validated when the flow is saved, errors located."""

from __future__ import annotations

import pytest

from flows.language import FlowInvalid, parse_flow
from flows.language.triggers import ScheduleTrigger
from tests.triggers.helpers import schedule_flow, triggered_flow


def errors_of(source: str) -> list[str]:
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(source)
    return [str(error) for error in caught.value.errors]


def test_a_cron_out_of_range_is_refused_at_its_line_and_path() -> None:
    source = schedule_flow("61 * * * *")
    [error] = errors_of(source)
    cron_line = 1 + next(i for i, line in enumerate(source.splitlines()) if "cron:" in line)
    assert error.startswith(f"line {cron_line}, column 11 at triggers[0].cron: ")
    assert "Invalid cron expression '61 * * * *'" in error


def test_a_cron_with_seconds_needs_with_seconds() -> None:
    [error] = errors_of(schedule_flow("*/2 * * * * *"))
    assert "triggers[0].cron" in error and "it has 6 fields" in error and "withSeconds" in error
    definition = parse_flow(schedule_flow("*/2 * * * * *", extra="withSeconds: true"))
    schedule = definition.triggers[0]
    assert isinstance(schedule, ScheduleTrigger)
    assert schedule.with_seconds is True


def test_with_seconds_refuses_a_five_field_cron() -> None:
    [error] = errors_of(schedule_flow("*/5 * * * *", extra="withSeconds: true"))
    assert "triggers[0].cron" in error and "6 fields, seconds first" in error


def test_an_unknown_time_zone_is_refused_where_it_is_written() -> None:
    [error] = errors_of(schedule_flow("@daily", extra="timezone: Mars/Olympus"))
    assert "at triggers[0].timezone" in error and "Unknown time zone 'Mars/Olympus'" in error


def test_nicknames_time_zones_and_policies_are_read_as_kestra_writes_them() -> None:
    definition = parse_flow(
        schedule_flow(
            "@hourly",
            extra="""
            timezone: Europe/Paris
            recoverMissedSchedules: LAST
            inputs:
              day: "{{ trigger.date }}"
            """,
        )
    )
    [schedule] = definition.triggers
    assert isinstance(schedule, ScheduleTrigger)
    assert schedule.canonical_type == "io.kestra.plugin.core.trigger.Schedule"
    assert (schedule.timezone, schedule.recover_missed_schedules) == ("Europe/Paris", "LAST")
    assert schedule.inputs == {"day": "{{ trigger.date }}"}


def test_the_older_kestra_type_names_still_validate() -> None:
    definition = parse_flow(
        triggered_flow(
            """
            - id: schedule
              type: io.kestra.core.models.triggers.types.Schedule
              cron: "*/15 * * * *"
            - id: hook
              type: io.kestra.core.models.triggers.types.Webhook
              key: abc
            - id: after
              type: io.kestra.core.models.triggers.types.Flow
              conditions:
                - type: io.kestra.core.models.conditions.types.ExecutionFlowCondition
                  namespace: dev
                  flowId: upstream
                - type: io.kestra.core.models.conditions.types.ExecutionStatusCondition
                  in: [SUCCESS]
            """
        )
    )
    assert [t.canonical_type.rsplit(".", 1)[1] for t in definition.triggers] == [
        "Schedule",
        "Webhook",
        "Flow",
    ]


def test_an_unknown_trigger_or_condition_type_is_named() -> None:
    errors = errors_of(
        triggered_flow(
            """
            - id: poll
              type: io.kestra.plugin.fs.http.Trigger
            - id: after
              type: io.kestra.plugin.core.trigger.Flow
              conditions:
                - type: io.kestra.plugin.core.condition.NoSuchCondition
            """
        )
    )
    assert any(
        "triggers[0].type" in e and "Unknown trigger type 'io.kestra.plugin.fs.http.Trigger'" in e
        for e in errors
    )
    assert any(
        "triggers[1].conditions[0].type" in e and "Unknown condition type" in e for e in errors
    )


def test_two_triggers_may_not_share_an_id() -> None:
    [error] = errors_of(
        triggered_flow(
            """
            - id: same
              type: Webhook
              key: a
            - id: same
              type: Schedule
              cron: "@daily"
            """
        )
    )
    assert "Trigger id 'same' is used more than once" in error


def test_what_flowsite_does_not_do_yet_is_refused_by_name() -> None:
    [error] = errors_of(
        triggered_flow(
            """
            - id: hook
              type: io.kestra.plugin.core.trigger.Webhook
              key: abc
              wait: true
            """
        )
    )
    assert "triggers[0].wait" in error and "not supported yet" in error
