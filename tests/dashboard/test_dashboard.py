"""The dashboard counts what each person may see, per period, namespace and flow, and
answers bad filters with a message instead of an error."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from executions.models import Execution, State
from flows.models import Flow
from triggers.clock import schedules_tick
from triggers.models import TriggerState

pytestmark = pytest.mark.django_db


def _flow(namespace: str, flow_id: str, *, schedule: bool = False) -> Flow:
    trigger = (
        "triggers:\n  - id: nightly\n    type: io.kestra.plugin.core.trigger.Schedule\n"
        '    cron: "0 3 * * *"\n'
        if schedule
        else ""
    )
    return Flow.save_source(
        f"id: {flow_id}\nnamespace: {namespace}\n"
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: m\n" + trigger
    )


def _execution(flow: Flow, state: str, ago: timedelta) -> Execution:
    return Execution.objects.create(
        flow_revision=flow.current_revision,
        namespace=flow.namespace,
        flow_id=flow.flow_id,
        state=state,
        created_at=timezone.now() - ago,
    )


@pytest.fixture
def spread(alice: Any, bob: Any, charlie: Any) -> dict[str, Flow]:
    """company.data (bob's) and dev (alice's only), over the last month."""
    data = _flow("company.data", "load", schedule=True)
    etl = _flow("company.data.etl", "clean")
    dev = _flow("dev", "hello")
    _flow("dev", "switched-off", schedule=True)
    schedules_tick(timezone.now())  # the clock arms the schedules: their next date
    TriggerState.objects.get(flow_id="switched-off").set_disabled(True)
    hours = timedelta(hours=1)
    for flow, state, ago in [
        (data, State.SUCCESS, 2 * hours),
        (data, State.SUCCESS, 3 * hours),
        (data, State.FAILED, 4 * hours),
        (etl, State.SUCCESS, 30 * hours),
        (etl, State.RUNNING, 5 * timedelta(minutes=1)),
        (dev, State.KILLED, 10 * hours),
        (dev, State.SUCCESS, 20 * timedelta(days=1)),  # only in the 30-day period
        (dev, State.WARNING, 40 * timedelta(days=1)),  # in none of them
    ]:
        _execution(flow, state, ago)
    return {"data": data, "etl": etl, "dev": dev}


def _state_counts(html: str) -> dict[str, int]:
    return {
        state: int(count)
        for state, count in re.findall(r'<li data-state="(\w+)" data-count="(\d+)">', html)
    }


def _bars(html: str) -> list[dict[str, int]]:
    """Each chart bar's counts, from its data- attributes."""
    bars = []
    for attributes in re.findall(r'<g class="bar" ([^>]*)>', html):
        counts = dict(re.findall(r'data-(\w+)="(\d+)"', attributes))
        bars.append({name.upper(): int(value) for name, value in counts.items()})
    return bars


def _page(client: Client, user: Any, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_home_page_is_the_dashboard_of_everything_alice_may_see(
    client: Client, alice: Any, spread: dict[str, Flow]
) -> None:
    html = _page(client, alice, "/")
    assert "<h1>Dashboard</h1>" in html
    assert _state_counts(html) == {"SUCCESS": 3, "FAILED": 1, "KILLED": 1, "RUNNING": 1}
    assert re.search(r'data-testid="total">6<', html)
    assert re.search(r'data-testid="success-rate">60 %<', html)  # 3 of 5 ended
    bars = _bars(html)
    assert len(bars) == 8  # the days of the last 7 days, today's and the first's partial
    assert sum(bar["TOTAL"] for bar in bars) == 6
    assert sum(bar.get("FAILED", 0) for bar in bars) == 1


def test_the_chart_has_an_accessible_name_and_each_bar_says_its_counts(
    client: Client, alice: Any, spread: dict[str, Flow]
) -> None:
    html = _page(client, alice, "/?period=24h")
    assert re.search(r'<svg [^>]*role="img" aria-label="Executions by state, last 24 hours', html)
    titles = re.findall(r"<g class=\"bar\"[^>]*>\s*<title>([^<]*)</title>", html)
    assert len(titles) in (24, 25)

    def said(state: str) -> int:
        return sum(int(n) for title in titles for n in re.findall(rf"(\d+) {state}\b", title))

    assert (said("SUCCESS"), said("FAILED"), said("KILLED"), said("RUNNING")) == (2, 1, 1, 1)
    assert sum("no executions" in title for title in titles) == len(titles) - 5
    assert sum(bar["TOTAL"] for bar in _bars(html)) == 5  # the 30-hour-old one is out


def test_the_period_changes_what_is_counted(
    client: Client, alice: Any, spread: dict[str, Flow]
) -> None:
    assert _state_counts(_page(client, alice, "/?period=1h")) == {"RUNNING": 1}
    month = _page(client, alice, "/?period=30d")
    assert _state_counts(month)["SUCCESS"] == 4
    assert len(_bars(month)) == 31
    assert len(_bars(_page(client, alice, "/?period=1h"))) in (12, 13)


def test_failures_running_and_schedules_are_listed_with_links(
    client: Client, alice: Any, spread: dict[str, Flow]
) -> None:
    html = _page(client, alice, "/")
    failures = html.split('data-testid="failures"')[1].split("</section>")[0]
    failed = Execution.objects.get(state=State.FAILED)
    killed = Execution.objects.get(state=State.KILLED)
    # Newest first: the failure 4 hours ago before the kill 10 hours ago.
    assert failures.index(failed.get_absolute_url()) < failures.index(killed.get_absolute_url())
    running = html.split('data-testid="running"')[1].split("</section>")[0]
    assert Execution.objects.get(state=State.RUNNING).get_absolute_url() in running
    scheduled = html.split('data-testid="scheduled"')[1].split("</section>")[0]
    trigger = TriggerState.objects.get(namespace="company.data", trigger_id="nightly")
    assert trigger.next_date is not None
    assert "company.data.load" in scheduled
    assert "switched-off" not in scheduled
    assert f'datetime="{trigger.next_date.isoformat()}"' in scheduled


def test_the_namespace_filter_takes_in_the_child_namespaces(
    client: Client, alice: Any, spread: dict[str, Flow]
) -> None:
    html = _page(client, alice, "/?namespace=company.data")
    assert _state_counts(html) == {"SUCCESS": 3, "FAILED": 1, "RUNNING": 1}
    assert "dev.hello" not in html


def test_bob_sees_only_company_data(client: Client, bob: Any, spread: dict[str, Flow]) -> None:
    html = _page(client, bob, "/?period=30d")
    assert _state_counts(html) == {"SUCCESS": 3, "FAILED": 1, "RUNNING": 1}
    assert "dev.hello" not in html and '<option value="dev"' not in html


def test_bob_asking_for_a_namespace_he_may_not_see_gets_his_own_and_a_message(
    client: Client, bob: Any, spread: dict[str, Flow]
) -> None:
    html = _page(client, bob, "/?namespace=dev")
    assert "No namespace dev that you may see" in html
    assert _state_counts(html) == {"SUCCESS": 3, "FAILED": 1, "RUNNING": 1}


def test_charlie_sees_nothing_and_is_told_to_ask_for_a_role(
    client: Client, charlie: Any, spread: dict[str, Flow]
) -> None:
    get_user_model().objects.create(username="root", is_superuser=True)
    html = _page(client, charlie, "/")
    assert 'data-testid="dashboard-empty"' in html
    assert "no role on any namespace" in html and "a superuser: <strong>root</strong>" in html
    assert "company.data" not in html and "dev.hello" not in html
    assert '<g class="bar"' not in html


def test_an_editor_with_nothing_yet_is_offered_to_write_a_flow(client: Client, bob: Any) -> None:
    html = _page(client, bob, "/")
    assert 'data-testid="dashboard-empty"' in html
    assert 'href="/flows/new/"' in html and "Write your first flow" in html


@pytest.mark.parametrize(
    "query",
    [
        "period=forever",
        "period=" + "9" * 5000,
        "period=%00",
        "namespace=%27%3B--",
        "namespace=" + "a." * 300,
        "period=7d&period=evil&namespace=",
    ],
)
def test_bad_filters_fall_back_with_a_message(
    client: Client, alice: Any, spread: dict[str, Flow], query: str
) -> None:
    html = _page(client, alice, f"/?{query}")
    assert 'role="alert"' in html
    assert '<g class="bar"' in html


def test_the_namespace_page_shows_its_overview_with_its_children(
    client: Client, bob: Any, spread: dict[str, Flow]
) -> None:
    html = _page(client, bob, "/namespaces/company.data/")
    assert 'data-testid="overview"' in html
    assert _state_counts(html) == {"SUCCESS": 3, "FAILED": 1, "RUNNING": 1}


def test_the_flow_page_shows_the_overview_of_that_flow_only(
    client: Client, alice: Any, spread: dict[str, Flow]
) -> None:
    html = _page(client, alice, "/flows/company.data/load/?period=30d")
    assert _state_counts(html) == {"SUCCESS": 2, "FAILED": 1}
    assert "company.data.etl" not in html.split('data-testid="overview"')[1].split("</details>")[0]
    assert 'id="editor"' in html or "flow-source" in html


def test_the_flow_page_overview_starts_folded_with_its_summary(
    client: Client, alice: Any, spread: dict[str, Flow]
) -> None:
    html = _page(client, alice, "/flows/company.data/load/")
    overview = re.search(
        r'<details class="overview scoped-overview" data-testid="overview"( open)?>', html
    )
    assert overview is not None and overview.group(1) is None
    assert "3 executions, 67 % success" in html


def test_the_overview_of_a_namespace_out_of_sight_is_a_404(
    client: Client, bob: Any, spread: dict[str, Flow]
) -> None:
    client.force_login(bob)
    assert client.get("/namespaces/dev/").status_code == 404
    assert client.get("/flows/dev/hello/").status_code == 404


def test_the_header_links_to_the_dashboard(client: Client, alice: Any) -> None:
    html = _page(client, alice, "/executions/")
    assert '<a href="/">Dashboard</a>' in html
    assert '<a class="brand" href="/">' in html


def test_a_superuser_naming_no_namespace_at_all_is_told_so(client: Client, db: Any) -> None:
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create(username="root", is_superuser=True)
    html = _page(client, root, "/?namespace=..%2Fetc")
    assert "No namespace ../etc that you may see" in html


def test_days_are_the_readers_days_across_a_change_of_summer_time(alice: Any) -> None:
    from zoneinfo import ZoneInfo

    from dashboard.stats import PERIODS, Scope, overview_build

    flow = _flow("dev", "hello")
    paris = ZoneInfo("Europe/Paris")  # summer time ended on 2026-10-25 at 03:00
    now = datetime(2026, 10, 27, 12, 0, tzinfo=paris)
    for moment in [
        datetime(2026, 10, 25, 0, 10, tzinfo=paris),  # 22:10 UTC the day before
        datetime(2026, 10, 25, 23, 50, tzinfo=paris),
        datetime(2026, 10, 26, 0, 5, tzinfo=paris),
    ]:
        Execution.objects.create(
            flow_revision=flow.current_revision,
            namespace="dev",
            flow_id="hello",
            state=State.SUCCESS,
            created_at=moment,
        )
    with timezone.override(paris):
        overview = overview_build(user=alice, scope=Scope(), period=PERIODS["7d"], now=now)
        days = {timezone.localtime(b.start).date().isoformat(): b.total for b in overview.buckets}
    assert len(overview.buckets) == 8
    assert all(timezone.localtime(b.start, paris).hour == 0 for b in overview.buckets)
    assert days["2026-10-24"] == 0 and days["2026-10-25"] == 2 and days["2026-10-26"] == 1
    with timezone.override(paris):
        hours = overview_build(
            user=alice,
            scope=Scope(),
            period=PERIODS["24h"],
            now=datetime(2026, 10, 25, 12, 0, tzinfo=paris),
        ).buckets
    assert len(hours) == 25  # 24 hours and the one the period starts in, 02:00 twice
    assert sum(b.total for b in hours) == 1


def test_a_bad_period_on_the_namespace_page_opens_the_overview_with_a_message(
    client: Client, bob: Any, spread: dict[str, Flow]
) -> None:
    html = _page(client, bob, "/namespaces/company.data/?period=1y")
    assert "Unknown period &#x27;1y&#x27;" in html
    assert 'data-testid="overview" open' in html
    assert _state_counts(html) == {"SUCCESS": 3, "FAILED": 1, "RUNNING": 1}  # the 7 days
