"""The execution page as a run goes on: durations written in the unit that suits them and
the instants the page counts from, an axis readable for short runs and long ones,
outputs folded with a preview, previews of output files, labels an Editor changes (on
the page and by Kestra's API), and links to the executions related to this one."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from executions.models import Execution, State, TaskRun
from executions.presentation import axis_ticks, gantt_rows
from flowsite.values import format_duration
from tests.executions.helpers import (
    COMPANY_FLOW,
    at,
    execution_page,
    make_execution,
    make_run,
)

pytestmark = pytest.mark.django_db


def _fragment(client: Client, execution: Execution) -> str:
    response = client.get(f"/executions/{execution.pk}/task-runs/")
    assert response.status_code == 200
    return response.content.decode()


def _axis(html: str) -> list[str]:
    scale = re.search(r'<th class="gantt-scale"[^>]*>(.*?)</th>', html, re.S)
    assert scale
    return re.findall(r"<span [^>]*>([^<]*)</span>", scale.group(1))


# Durations and the axis


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.038, "38 ms"),
        (0.9996, "1.00 s"),
        (2.41, "2.41 s"),
        (12.44, "12.4 s"),
        (192, "3 min 12 s"),
        (3720, "1 h 02 min"),
    ],
)
def test_a_duration_is_written_in_the_unit_that_suits_it(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


@pytest.mark.parametrize(
    ("seconds", "first", "unit"),
    [(0.012, "0 ms", " ms"), (0.049, "0 ms", " ms"), (1.9, "0 ms", " ms"), (10, "0 s", " s")],
)
def test_the_axis_of_a_short_run_has_distinct_labels_in_a_readable_unit(
    seconds: float, first: str, unit: str
) -> None:
    ticks = axis_ticks(seconds)
    labels = [label for _, label in ticks]
    assert labels[0] == first and len(ticks) >= 3
    assert len(set(labels)) == len(labels), labels
    assert all(label.endswith(unit) for label in labels)
    assert all(0 <= percent <= 100 for percent, _ in ticks)


def test_the_axis_of_long_runs_counts_minutes_then_hours() -> None:
    assert axis_ticks(3000)[1][1] == "10 min"
    assert axis_ticks(5 * 3600)[-1][1].endswith(" h")


def test_a_run_of_30_ms_shows_ms_ticks_and_durations_on_its_page(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    execution = make_execution(ended_at=at(0.030))
    make_run(execution, "prepare", span=(0.002, 0.040))

    html = _fragment(client, execution)

    labels = _axis(html)
    assert labels[:3] == ["0 ms", "10 ms", "20 ms"], labels
    assert "{#" not in execution_page(client, execution)  # no template comment leaks into the page
    assert len(set(labels)) == len(labels)
    assert re.search(r'data-testid="execution-duration"[^>]*>30 ms</span>', html)
    assert re.search(r'data-testid="task-duration"[^>]*>38 ms</span>', html)


def test_a_running_execution_gives_the_page_the_instants_to_tick_from(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    started = timezone.now() - timedelta(seconds=3)
    execution = make_execution(state=State.RUNNING, started_at=started, ended_at=None)
    run = make_run(execution, "prepare", state=State.RUNNING, span=None)
    TaskRun.objects.filter(pk=run.pk).update(started_at=started)
    done = make_run(execution, "fan", position=1, span=None)
    TaskRun.objects.filter(pk=done.pk).update(
        started_at=started, ended_at=started + timedelta(seconds=1)
    )

    html = _fragment(client, execution)

    since = str(round(started.timestamp() * 1000))
    duration = re.search(r'<span class="duration" data-testid="execution-duration"[^>]*>', html)
    assert duration and f'data-since="{since}"' in duration.group(0)
    assert "data-ticking" in duration.group(0)
    gantt = re.search(r'<table class="list gantt"[^>]*>', html)
    assert gantt and "data-live" in gantt.group(0) and "data-now=" in gantt.group(0)
    rows = dict(re.findall(r'data-task="(\w+)".*?(<span class="duration"[^>]*>)', html, re.S))
    assert "data-ticking" in rows["prepare"]  # still running: it ticks
    assert "data-ticking" not in rows["fan"]  # ended: its duration is final
    assert re.search(r'<span class="gantt-bar bar-RUNNING" data-start="\d+" data-end=""', html)


def test_an_ended_execution_does_not_tick(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution = make_execution()
    make_run(execution, "prepare", span=(0, 10))

    html = _fragment(client, execution)

    assert "data-ticking" not in html
    gantt = re.search(r'<table class="list gantt"[^>]*>', html)
    assert gantt and "data-live" not in gantt.group(0)
    assert gantt_rows(execution).live is False


def test_a_long_error_is_wrapped_in_a_box_of_its_own(client: Client, alice: Any) -> None:
    client.force_login(alice)
    error = "x" * 5000
    execution = make_execution(state=State.FAILED, error=error)
    make_run(execution, "prepare", state=State.FAILED, error=error)

    html = _fragment(client, execution)

    assert f'<div class="run-error error" data-testid="task-error">{error}</div>' in html
    assert f'<div class="run-error error" data-testid="execution-error">{error}</div>' in html


# Links between executions


def test_the_facts_link_parent_children_original_replays_and_upstream_with_states(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    parent = make_execution()
    call = make_run(parent, "prepare", task_type="io.kestra.plugin.core.flow.Subflow")
    child = make_execution(parent_task_run=call, state=State.FAILED)
    replay = make_execution(original_id=parent.pk, state=State.RUNNING, ended_at=None)
    downstream = make_execution(
        trigger={
            "id": "after",
            "type": "io.kestra.plugin.core.trigger.Flow",
            "variables": {"executionId": parent.pk, "state": "SUCCESS"},
        }
    )

    html = execution_page(client, parent)
    assert re.search(
        rf'href="/executions/{child.pk}/" data-testid="child-execution">.*?state-FAILED', html
    )
    assert re.search(
        rf'href="/executions/{replay.pk}/" data-testid="replay-execution">.*?state-RUNNING', html
    )
    child_html = execution_page(client, child)
    assert re.search(
        rf'href="/executions/{parent.pk}/" data-testid="parent-execution">.*?state-SUCCESS',
        child_html,
    )
    assert f'href="/executions/{parent.pk}/" data-testid="original-execution"' in execution_page(
        client, replay
    )
    downstream_html = execution_page(client, downstream)
    assert f'href="/executions/{parent.pk}/" data-testid="upstream-execution"' in downstream_html
    assert 'href="/flows/dev/fan-out/#flow-triggers"' in downstream_html


def test_a_related_execution_the_reader_may_not_see_is_not_named(client: Client, bob: Any) -> None:
    client.force_login(bob)
    mine = make_execution(COMPANY_FLOW)
    hidden_replay = make_execution(original_id=mine.pk)  # in dev, which bob cannot see
    call = make_run(mine, "prepare", task_type="io.kestra.plugin.core.flow.Subflow")
    hidden_child = make_execution(parent_task_run=call)

    html = execution_page(client, mine)

    assert hidden_replay.pk not in html and hidden_child.pk not in html
