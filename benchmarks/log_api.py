"""The logs API on a million-line execution: a page's time (first, middle, last, by
``afterId``) and the web server's memory while ``/download`` streams every line.

The lines are written straight into the table by one SQL statement: real rows, as a
task's would be, without the minutes a task takes to print them (the ingest section
measures that)."""

from __future__ import annotations

import http.client
import threading
import time
from datetime import datetime
from urllib.parse import urlencode

from django.db import connection
from django.utils import timezone

from executions.models import Execution, LogLine, State, TaskRun
from flows.models import Flow

from .environment import NAMESPACE
from .procfs import pss_kib
from .report import Report, ms
from .stack import Api, Stack

LINES = 1_000_000
PAGE = 1000
TARGET_PAGE_SECONDS = 0.2
TARGET_GROWTH_MIB = 50

FLOW = """\
id: million-lines
namespace: {namespace}
tasks:
  - id: count
    type: io.kestra.plugin.core.log.Log
    message: counted
"""


def log_lines_fill(task_run: TaskRun, count: int, *, at: datetime | None = None) -> None:
    """Write ``count`` lines of ``task_run``'s current attempt in one statement: ``line
    1`` to ``line <count>`` in id order, every tenth WARN, every hundredth ERROR, the
    rest INFO."""
    table = connection.ops.quote_name(LogLine._meta.db_table)
    sql = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
        f"INSERT INTO {table} (execution_id, task_run_id, task_id, attempt, stream, level,"
        " timestamp, message) SELECT %s, %s, %s, %s, 'stdout',"
        " CASE WHEN i %% 100 = 0 THEN 'ERROR' WHEN i %% 10 = 0 THEN 'WARN' ELSE 'INFO' END,"
        " %s, 'line ' || i FROM n"
    )
    moment = connection.ops.adapt_datetimefield_value(at or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                count,
                task_run.execution_id,
                task_run.pk,
                task_run.task_id,
                max(task_run.attempt, 1),
                moment,
            ],
        )


def million_line_execution(count: int = LINES, *, namespace: str = NAMESPACE) -> Execution:
    """An ended execution of one task run that printed ``count`` lines."""
    flow = Flow.save_source(FLOW.format(namespace=namespace))
    now = timezone.now()
    execution = Execution.objects.create(
        flow_revision=flow.current_revision,
        namespace=flow.namespace,
        flow_id=flow.flow_id,
        state=State.SUCCESS,
        started_at=now,
        ended_at=now,
    )
    task_run = TaskRun.objects.create(
        execution=execution,
        task_id="count",
        path="count",
        position=0,
        state=State.SUCCESS,
        attempt=1,
    )
    log_lines_fill(task_run, count, at=now)
    if connection.vendor == "postgresql":  # what autovacuum does a minute after such an insert
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(LogLine._meta.db_table)}")
    return execution


def download_peak(port: int, path: str, token: str, pid: int) -> tuple[int, float, int]:
    """GET ``path`` (read as it comes) while sampling the PSS of process ``pid``: the
    bytes received, the seconds taken and the peak PSS in KiB."""
    peak = pss_kib(pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, pss_kib(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        client.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = client.getresponse()
        received = 0
        while chunk := response.read(1 << 16):
            received += len(chunk)
    finally:
        client.close()
        done.set()
        sampler.join()
    return received, time.monotonic() - started, peak


def _page_seconds(api: Api, path: str) -> float:
    return api.get(path, authorization=f"Bearer {api.token}")


def log_api_measure(api: Api, stack: Stack, report: Report) -> None:
    report.section(f"logs API, an execution of {LINES:,} lines")
    execution = million_line_execution()
    web = next(pid for pid, (role, _) in stack.processes().items() if role == "web")
    base = f"/api/v1/logs/{execution.pk}"
    middle = LogLine.objects.filter(execution=execution).order_by("id")[LINES // 2].id
    for name, query in (
        ("first page", f"size={PAGE}"),
        ("page at the middle (afterId)", f"size={PAGE}&afterId={middle}"),
        ("page at the middle (page=)", f"size={PAGE}&page={LINES // PAGE // 2}"),
        ("ERROR lines, first page", f"size={PAGE}&minLevel=ERROR"),
    ):
        _page_seconds(api, f"{base}?{query}")  # a warm-up: the server's first of its kind
        times = [_page_seconds(api, f"{base}?{query}") for _ in range(5)]
        report.measured(
            f"GET /logs/{{id}} {PAGE} lines: {name}",
            times,
            ms,
            target=f"<= {TARGET_PAGE_SECONDS * 1000:.0f} ms",
            ok=sorted(times)[2] <= TARGET_PAGE_SECONDS,
        )
    query = urlencode({"filters[executionId][EQUALS]": execution.pk, "q": "line 987654"})
    times = [_page_seconds(api, f"/api/v1/logs/search?size=10&{query}") for _ in range(5)]
    report.measured("GET /logs/search q='line 987654', first page", times, ms)
    for name, path in (("/download (text)", f"{base}/download"), ("/logs/{id} (JSON)", base)):
        before = pss_kib(web)
        received, seconds, peak = download_peak(stack.port, path, api.token, web)
        growth = (peak - before) / 1024
        report.derived(
            f"GET {name}: web server PSS growth at its peak",
            f"{growth:.0f} MiB",
            target=f"<= {TARGET_GROWTH_MIB} MiB",
            ok=growth <= TARGET_GROWTH_MIB,
            spread=f"{received / 1e6:.0f} MB in {seconds:.1f} s, from {before / 1024:.0f} MiB",
        )
