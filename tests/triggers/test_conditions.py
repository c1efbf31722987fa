"""Kestra's conditions on Schedule and Webhook triggers: the slots a schedule runs (and
backfills, and names as next and previous), and the calls a webhook turns away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from flows.language import FlowInvalid, parse_flow
from flows.language.triggers import ConditionContext, ConditionInvalid, conditions_hold
from tests.triggers.helpers import (
    executions_of,
    save,
    schedule_flow,
    slot_dates,
    trigger_of,
    triggered_flow,
)
from triggers.clock import clock_tick

MONDAY = datetime(2030, 1, 7, tzinfo=UTC)  # 2030-01-01 is a Tuesday


def daily_over_two_weeks(conditions: str) -> list[str]:
    """The slots of a daily 09:00 schedule that ran over two weeks, given its conditions."""
    flow = save(schedule_flow("0 9 * * *", extra=conditions))
    clock_tick(datetime(2030, 1, 1, 8, 0, tzinfo=UTC))  # arms it for Tuesday 09:00
    clock_tick(datetime(2030, 1, 14, 23, 0, tzinfo=UTC))
    return [date[:10] for date in slot_dates(flow)]


@pytest.mark.django_db
def test_a_schedule_runs_only_on_the_day_of_week_its_condition_names() -> None:
    days = daily_over_two_weeks(
        """
        conditions:
          - type: io.kestra.plugin.core.condition.DayWeek
            dayOfWeek: MONDAY
        """
    )
    assert days == ["2030-01-07", "2030-01-14"]


@pytest.mark.django_db
def test_not_weekend_skips_saturdays_and_sundays_with_the_older_names() -> None:
    days = daily_over_two_weeks(
        """
        scheduleConditions:
          - type: io.kestra.core.models.conditions.types.NotCondition
            conditions:
              - type: io.kestra.core.models.conditions.types.WeekendCondition
        """
    )
    assert "2030-01-05" not in days and "2030-01-06" not in days and "2030-01-12" not in days
    assert len(days) == 10


@pytest.mark.django_db
def test_or_of_the_first_monday_and_the_last_friday_of_the_month() -> None:
    flow = save(
        schedule_flow(
            "0 9 * * *",
            extra="""
            conditions:
              - type: io.kestra.plugin.core.condition.Or
                conditions:
                  - type: io.kestra.plugin.core.condition.DayWeekInMonth
                    dayOfWeek: MONDAY
                    dayInMonth: FIRST
                  - type: io.kestra.plugin.core.condition.DayWeekInMonth
                    dayOfWeek: FRIDAY
                    dayInMonth: LAST
            """,
        )
    )
    clock_tick(datetime(2030, 1, 1, 8, 0, tzinfo=UTC))
    clock_tick(datetime(2030, 1, 31, 23, 0, tzinfo=UTC))
    clock_tick(datetime(2030, 2, 28, 23, 0, tzinfo=UTC))  # ALL recovers 100 slots a tick
    assert [d[:10] for d in slot_dates(flow)] == [
        "2030-01-07",
        "2030-01-25",
        "2030-02-04",
        "2030-02-22",
    ]


@pytest.mark.django_db
def test_time_between_date_between_and_an_expression_narrow_an_hourly_schedule() -> None:
    flow = save(
        schedule_flow(
            "0 * * * *",
            extra="""
            conditions:
              - type: io.kestra.plugin.core.condition.TimeBetween
                after: "08:30:00Z"
                before: "12:30:00+01:00"
              - type: io.kestra.plugin.core.condition.DateTimeBetween
                before: "2030-01-02T00:00:00Z"
              - type: io.kestra.plugin.core.condition.Expression
                expression: "{{ trigger.date | date('HH') != '10' }}"
            """,
        )
    )
    clock_tick(datetime(2030, 1, 1, 0, 30, tzinfo=UTC))
    clock_tick(datetime(2030, 1, 2, 23, 0, tzinfo=UTC))
    assert [d[11:16] for d in slot_dates(flow)] == ["09:00", "11:00"]


@pytest.mark.django_db
def test_a_backfill_runs_only_the_slots_its_schedule_conditions_admit() -> None:
    flow = save(
        schedule_flow(
            "0 9 * * *",
            extra="""
            backfill:
              start: "2029-12-20T00:00:00Z"
            conditions:
              - type: io.kestra.plugin.core.condition.Weekend
            """,
        )
    )
    clock_tick(datetime(2030, 1, 1, 8, 0, tzinfo=UTC))  # arms it, plans the backfill
    clock_tick(datetime(2030, 1, 1, 8, 0, 1, tzinfo=UTC))
    assert [d[:10] for d in slot_dates(flow)] == [
        "2029-12-22",
        "2029-12-23",
        "2029-12-29",
        "2029-12-30",
    ]


@pytest.mark.django_db
def test_an_empty_backfill_is_accepted_and_starts_nothing_as_in_kestra() -> None:
    flow = save(schedule_flow("0 9 * * *", extra="backfill: {}\n"))
    clock_tick(datetime(2030, 1, 1, 8, 0, tzinfo=UTC))
    clock_tick(datetime(2030, 1, 1, 8, 0, 1, tzinfo=UTC))
    assert executions_of(flow) == []


def test_a_multiple_condition_on_a_schedule_is_refused_with_its_place() -> None:
    source = schedule_flow(
        "0 9 * * *",
        extra="""
        conditions:
          - type: io.kestra.plugin.core.condition.MultipleCondition
            id: both
            conditions:
              a:
                type: io.kestra.plugin.core.condition.Weekend
        """,
    )
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(source)
    assert "triggers[0].conditions" in str(caught.value)
    assert "MultipleCondition belongs to a Flow trigger" in str(caught.value)


@pytest.mark.django_db
def test_a_webhook_whose_conditions_do_not_hold_answers_204_and_starts_nothing(
    client: Client,
) -> None:
    flow = save(
        triggered_flow(
            """
            - id: hook
              type: io.kestra.plugin.core.trigger.Webhook
              key: s3cr3t-key
              conditions:
                - type: io.kestra.plugin.core.condition.Expression
                  expression: "{{ trigger.body.kind == 'order' }}"
            """,
            flow_id="hooked",
        )
    )
    url = "/api/v1/executions/webhook/dev/hooked/s3cr3t-key"
    refused = client.post(url, data={"kind": "ping"}, content_type="application/json")
    assert refused.status_code == 204
    assert executions_of(flow) == []
    accepted = client.post(url, data={"kind": "order"}, content_type="application/json")
    assert accepted.status_code == 200
    assert len(executions_of(flow)) == 1


def test_a_condition_date_that_is_not_a_date_fails_the_slot_not_the_clock() -> None:
    trigger = parse_flow(
        schedule_flow(
            "0 9 * * *",
            extra="""
            conditions:
              - type: io.kestra.plugin.core.condition.DayWeek
                date: "{{ trigger.previous }}x"
                dayOfWeek: MONDAY
            """,
        )
    ).triggers[0]
    context = ConditionContext(variables={"trigger": {"previous": str(MONDAY + timedelta(days=1))}})
    with pytest.raises(ConditionInvalid, match="not an ISO-8601 date"):
        conditions_hold(trigger.conditions, context)


@pytest.mark.django_db
def test_public_holiday_skips_the_countrys_holidays() -> None:
    flow = save(
        schedule_flow(
            "0 9 * * *",
            extra="""
            conditions:
              - type: io.kestra.plugin.core.condition.Not
                conditions:
                  - type: io.kestra.plugin.core.condition.PublicHoliday
                    country: FR
            """,
        )
    )
    clock_tick(datetime(2030, 7, 12, 8, 0, tzinfo=UTC))
    clock_tick(datetime(2030, 7, 16, 10, 0, tzinfo=UTC))
    assert [d[:10] for d in slot_dates(flow)] == [
        "2030-07-12",
        "2030-07-13",
        "2030-07-15",
        "2030-07-16",
    ]


def test_a_public_holiday_of_an_unknown_country_cannot_be_decided() -> None:
    trigger = parse_flow(
        schedule_flow(
            "0 9 * * *",
            extra="""
            conditions:
              - type: io.kestra.plugin.core.condition.PublicHoliday
                country: XX
            """,
        )
    ).triggers[0]
    context = ConditionContext(variables={"trigger": {"date": "2030-07-14T09:00:00Z"}})
    with pytest.raises(ConditionInvalid, match="No public holiday calendar for country 'XX'"):
        conditions_hold(trigger.conditions, context)


@pytest.mark.django_db
def test_trigger_next_and_previous_name_the_slots_that_meet_the_conditions() -> None:
    flow = save(
        schedule_flow(
            "0 9 * * *",
            extra="""
            conditions:
              - type: io.kestra.plugin.core.condition.DayWeek
                dayOfWeek: MONDAY
            """,
        )
    )
    clock_tick(datetime(2030, 1, 1, 8, 0, tzinfo=UTC))
    clock_tick(datetime(2030, 1, 8, 8, 0, tzinfo=UTC))
    [monday] = executions_of(flow)
    variables = trigger_of(monday)["variables"]
    assert variables["date"].startswith("2030-01-07T09:00")
    assert variables["next"].startswith("2030-01-14T09:00")
    assert variables["previous"].startswith("2029-12-31T09:00")


@pytest.mark.django_db
def test_a_triggers_labels_go_on_the_executions_it_starts_and_a_flow_cannot_fake_system_ones() -> (
    None
):
    source = schedule_flow(
        "0 9 * * *",
        extra="""
        labels:
          - key: started_by
            value: schedule
        """,
    ).replace("\ntasks:", "\nlabels:\n  system.correlationId: forged\n  team: data\n\ntasks:")
    flow = save(source)
    clock_tick(datetime(2030, 1, 1, 8, 0, tzinfo=UTC))
    clock_tick(datetime(2030, 1, 1, 9, 0, 1, tzinfo=UTC))
    [execution] = executions_of(flow)
    assert execution.labels["started_by"] == "schedule"
    assert execution.labels["team"] == "data"
    assert execution.labels["system.correlationId"] == execution.pk
