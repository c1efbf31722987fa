"""The pages people open most, with history behind them: 10,000 executions over 30 days
and 500 flows in 50 namespaces, 200,000 log lines and 10,000 audit entries, written once
in bulk. Each page is asked for over one kept-alive connection by a logged-in superuser,
then the lists by a Viewer of half the namespaces (whose pages filter by permission);
the time from request to the last byte on localhost is the server's time, with the
floor (a page doing nothing) beside it."""

from __future__ import annotations

import http.client
import random
import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEntry, Role, RoleBinding
from executions.models import Execution, State, TaskRun, new_id
from flows.models import Flow, FlowRevision
from triggers.models import TriggerState
from triggers.states import trigger_states_sync

from .environment import BENCH_USER, NAMESPACE
from .log_rows import log_lines_insert
from .report import Report, ms
from .stack import Stack

EXECUTIONS = 10_000
FLOWS = 500
NAMESPACES = 50  # bench.team-00 ... each with a child namespace, 10 flows apiece
SCHEDULED_EVERY = 10  # one flow in ten has a schedule
DAYS = 30
LOGGED_EXECUTIONS = 100  # of the executions, those with a task run that logged
LINES_EACH = 2_000
AUDIT_ENTRIES = 10_000
VIEWER = "flowsite-bench-viewer"  # Viewer of the even teams: half the namespaces
REQUESTS = 20
TARGET = 0.3  # seconds of server time per page
STATES = [  # (state, weight): mostly successes, as a healthy installation has
    (State.SUCCESS, 80),
    (State.FAILED, 8),
    (State.WARNING, 5),
    (State.KILLED, 2),
    (State.CANCELLED, 1),
    (State.RUNNING, 2),
    (State.CREATED, 1),
    (State.PAUSED, 1),
]

SOURCE = """\
id: {flow_id}
namespace: {namespace}
description: A benchmark flow
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hello
"""
SCHEDULE = """\
triggers:
  - id: hourly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 * * * *"
"""


def _namespace(n: int) -> str:
    team = f"{NAMESPACE}.team-{n % NAMESPACES:02d}"
    return team if n % 2 == 0 else f"{team}.etl"


def pages_seed() -> list[Flow]:
    """The flows, their revisions, their schedules and the executions, in bulk."""
    now = timezone.now()
    Flow.objects.bulk_create(
        [
            Flow(
                namespace=_namespace(n),
                flow_id=f"flow-{n}",
                source=SOURCE.format(flow_id=f"flow-{n}", namespace=_namespace(n))
                + (SCHEDULE if n % SCHEDULED_EVERY == 0 else ""),
            )
            for n in range(FLOWS)
        ],
        batch_size=500,
    )
    flows = list(Flow.objects.filter(namespace__startswith=NAMESPACE + ".").order_by("pk"))
    revisions = FlowRevision.objects.bulk_create(
        [FlowRevision(flow=flow, revision=1, source=flow.source) for flow in flows],
        batch_size=500,
    )
    by_flow = {revision.flow_id: revision for revision in revisions}
    if any(revision.pk is None for revision in revisions):  # a backend that returns no ids
        by_flow = {r.flow_id: r for r in FlowRevision.objects.filter(flow__in=flows)}
    for flow in flows[::SCHEDULED_EVERY]:
        trigger_states_sync(flow=flow)
    for n, state in enumerate(TriggerState.objects.filter(namespace__startswith=NAMESPACE + ".")):
        state.next_date = now + timedelta(minutes=30 + n)  # armed, as the clock would
        state.save(update_fields=["next_date"])
    pick = random.Random(15)
    states, weights = zip(*STATES, strict=True)
    rows = []
    for _ in range(EXECUTIONS):
        flow = pick.choice(flows)
        created = now - timedelta(seconds=pick.uniform(0, DAYS * 86400))
        state = pick.choices(states, weights)[0]
        rows.append(
            Execution(
                id=new_id(),
                flow_revision=by_flow[flow.pk],
                namespace=flow.namespace,
                flow_id=flow.flow_id,
                state=state,
                created_at=created,
                started_at=created,
                ended_at=created + timedelta(seconds=2) if state in _ENDED else None,
            )
        )
    Execution.objects.bulk_create(rows, batch_size=1000)
    for execution in rows[:LOGGED_EXECUTIONS]:
        run = TaskRun.objects.create(
            execution=execution, task_id="hello", path="hello", position=0,
            task_type="io.kestra.plugin.core.log.Log", state=State.SUCCESS,
        )  # fmt: skip
        log_lines_insert(task_run=run, count=LINES_EACH)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                timestamp=execution.created_at,
                actor_name=BENCH_USER,
                action="ran",
                namespace=execution.namespace,
                object_type="execution",
                object_id=execution.id,
                summary=f"Ran {execution.namespace}.{execution.flow_id}",
            )
            for execution in rows[:AUDIT_ENTRIES]
        ],
        batch_size=1000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # as autovacuum would, soon
            for model in (Execution, TaskRun, AuditEntry):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return flows


_ENDED = {State.SUCCESS, State.FAILED, State.WARNING, State.KILLED, State.CANCELLED}


def pages_data_delete() -> None:
    children = Q(namespace__startswith=NAMESPACE + ".")
    get_user_model().objects.filter(username=VIEWER).delete()
    AuditEntry.objects.filter(children).delete()
    Execution.objects.filter(children).delete()
    TriggerState.objects.filter(children).delete()
    Flow.objects.filter(children).delete()


def _session(username: str, *, superuser: bool) -> str:
    client = Client()
    user, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"is_superuser": superuser, "is_staff": superuser}
    )
    client.force_login(user)
    return client.cookies["sessionid"].value


def _viewer_session() -> str:
    cookie = _session(VIEWER, superuser=False)
    viewer = get_user_model().objects.get(username=VIEWER)
    for n in range(0, NAMESPACES, 2):
        RoleBinding.objects.get_or_create(
            namespace=f"{NAMESPACE}.team-{n:02d}", user=viewer, defaults={"role": Role.VIEWER}
        )
    return cookie


def _times(port: int, path: str, cookie: str) -> tuple[int, list[float]]:
    """The status of ``path`` and, if 200, the time of each of REQUESTS asks (after two
    to warm up)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    times = []
    try:
        for n in range(REQUESTS + 2):
            began = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            took = time.perf_counter() - began
            if response.status != 200:
                return response.status, []
            if n >= 2:
                times.append(took)
    finally:
        conn.close()
    return 200, times


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def pages_measure(stack: Stack, report: Report) -> None:
    report.section(
        f"pages with {EXECUTIONS:,} executions over {DAYS} days and {FLOWS} flows "
        f"(server time, {REQUESTS} requests each)"
    )
    began = time.perf_counter()
    flows = pages_seed()
    report.derived("seeding the executions and flows", f"{time.perf_counter() - began:.1f} s")
    try:
        cookie = _session(BENCH_USER, superuser=True)
        status, floor = _times(stack.port, "/login/", "")
        floor_median = statistics.median(floor) if floor else 0.0
        report.derived(
            "floor: /login/ (a trivial page)",
            ms(floor_median),
            spread=f"p95 {ms(_p95(floor))}, n={len(floor)}" if floor else f"HTTP {status}",
        )
        flow = flows[0]
        superuser_pages = [
            "/",
            "/?period=30d",
            f"/namespaces/{flow.namespace}/",
            flow.get_absolute_url(),
            "/flows/",
            "/flows/?q=flow-1",
            "/executions/",
            "/logs/",
            "/logs/?q=line+1999",
            "/audit/",
        ]
        viewer_pages = ["/", "/flows/", "/executions/", "/logs/"]
        viewer = _viewer_session()
        for who, path, session in [
            *[("superuser", path, cookie) for path in superuser_pages],
            *[("viewer of 25 namespaces", path, viewer) for path in viewer_pages],
        ]:
            _page_measure(stack.port, f"{path} ({who})", path, session, floor_median, report)
    finally:
        pages_data_delete()


def _page_measure(
    port: int, label: str, path: str, cookie: str, floor: float, report: Report
) -> None:
    status, times = _times(port, path, cookie)
    if not times:
        report.derived(label, f"HTTP {status}", target=f"< {ms(TARGET)}", ok=False)
        return
    report.derived(
        label,
        ms(statistics.median(times)),
        target=f"< {ms(TARGET)} (p95)",
        ok=_p95(times) < TARGET,
        spread=f"p95 {ms(_p95(times))}, max {ms(max(times))}, floor {ms(floor)}, n={len(times)}",
    )
