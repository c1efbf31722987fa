"""What Flowsite's own processes spend: memory and CPU while idle, and per execution the
database transactions and CPU time.

CPU is read from /proc (user + system time of Flowsite's processes, never of the processes
a task starts). Transactions are counted inside each of Flowsite's processes (a statement
in autocommit mode, or an atomic block that committed: flowsite/txcount.py); on
PostgreSQL also by the server, from pg_stat_database, less this process's own polling.
What the idle stack does meanwhile (the clock's look every second, the broker's poll) is
measured first and subtracted at its idle rate.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections import Counter
from dataclasses import dataclass

import psycopg
from django.contrib.auth import get_user_model

from flows.models import Flow
from flowsite.txcount import totals

from .environment import BENCH_USER, BenchError, Setup, postgres_params, postgres_url
from .flows import EXTRA_TASKS, Flows
from .procfs import pss_kib
from .report import Report, ms
from .stack import Api, Stack, wait_done

TARGET_PSS_MIB = 250
TARGET_IDLE_CPU_PERCENT = 1.0
TARGET_TRANSACTIONS_ONE = 8
TARGET_TRANSACTIONS_EXTRA = 4
TARGET_CPU_MS = 20
AUTH_CALLS = 50
AUTH_PATH = "/api/v1/executions/search?size=1"
PG_FLUSH = 11.0  # seconds: an idle PostgreSQL backend reports its counts within 10 s


@dataclass
class Reading:
    at: float  # time.monotonic()
    cpu: Counter[str]  # seconds of CPU so far, by role
    counted: Counter[str]  # transactions counted inside the stack's processes, by role
    own: int  # transactions of this process (its polling)
    server: float | None  # PostgreSQL's count for the database, when it is PostgreSQL

    def __sub__(self, before: Reading) -> Reading:
        return Reading(
            at=self.at - before.at,
            cpu=_minus(self.cpu, before.cpu),
            counted=_minus(self.counted, before.counted),
            own=self.own - before.own,
            server=None if self.server is None else self.server - (before.server or 0),
        )

    def per(self, seconds: float) -> Reading:
        """This difference scaled to a window of ``seconds``: an idle rate to subtract."""
        scale = seconds / self.at
        return Reading(
            at=seconds,
            cpu=Counter({k: v * scale for k, v in self.cpu.items()}),
            counted=Counter({k: v * scale for k, v in self.counted.items()}),
            own=round(self.own * scale),
            server=None if self.server is None else self.server * scale,
        )


def _minus(after: Counter[str], before: Counter[str]) -> Counter[str]:
    return Counter({k: after[k] - before.get(k, 0) for k in after.keys() | before.keys()})


class Meter:
    def __init__(self, setup: Setup, stack: Stack):
        self.setup, self.stack = setup, stack
        self._server = None
        if url := postgres_url():
            name, params = postgres_params(url)
            # Connected to another database, so that reading the count adds nothing to it.
            self._server = psycopg.connect(dbname="postgres", autocommit=True, **params)
            self._database = name

    def read(self) -> Reading:
        processes = self.stack.processes()
        cpu: Counter[str] = Counter()
        for role, proc in processes.values():
            cpu[role] += proc.cpu
        counted: Counter[str] = Counter()
        for pid, (autocommit, atomic) in totals(self.stack.transactions).items():
            role = processes[pid][0] if pid in processes else "processes that ended"
            counted[role] += autocommit + atomic
        own = sum(a + b for a, b in totals(self.setup.own_transactions).values())
        server = None
        if self._server is not None:
            row = self._server.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                [self._database],
            ).fetchone()
            server = int(row[0]) if row else 0
        return Reading(time.monotonic(), cpu, counted, own, server)

    def settle(self) -> None:
        """Wait until the database server has reported what was done so far."""
        time.sleep(PG_FLUSH if self._server is not None else 1.0)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()


def idle_measure(stack: Stack, meter: Meter, report: Report, seconds: float) -> Reading:
    """Memory and CPU of the stack left alone; returns its idle rates per second."""
    report.section("the stack as `make run` starts it, idle")
    processes = stack.processes()
    pss: Counter[str] = Counter()
    for pid, (role, _) in processes.items():
        pss[role] += pss_kib(pid) / 1024
    total = sum(pss.values())
    report.derived(
        "idle PSS of the whole stack",
        f"{total:.0f} MiB",
        target=f"<= {TARGET_PSS_MIB} MiB",
        ok=total <= TARGET_PSS_MIB,
        spread=f"{len(processes)} processes: "
        + ", ".join(f"{role} {mib:.0f}" for role, mib in sorted(pss.items())),
    )
    before = meter.read()
    time.sleep(seconds)
    idle = meter.read() - before
    percent = sum(idle.cpu.values()) / idle.at * 100
    report.derived(
        f"idle CPU over {seconds:g} s, % of one core",
        f"{percent:.2f} %",
        target=f"< {TARGET_IDLE_CPU_PERCENT:g} %",
        ok=percent < TARGET_IDLE_CPU_PERCENT,
        spread=", ".join(f"{r} {s / idle.at * 100:.2f}" for r, s in sorted(idle.cpu.items())),
    )
    report.derived(
        "idle transactions per second",
        f"{sum(idle.counted.values()) / idle.at:.1f}",
        spread=", ".join(f"{r} {n / idle.at:.1f}" for r, n in sorted(idle.counted.items())),
    )
    return idle.per(1.0)


@dataclass
class PerExecution:
    cpu: float  # seconds per execution
    cpu_by_role: dict[str, float]
    counted: float  # transactions per execution, counted in the processes
    counted_by_role: dict[str, float]
    server: float | None  # transactions per execution, by PostgreSQL


def per_execution_measure(
    flow: Flow, runs: int, *, api: Api, stack: Stack, meter: Meter, idle: Reading
) -> PerExecution:
    """Run ``flow`` ``runs`` times through the REST API, one after the other."""
    meter.settle()
    start = meter.read()
    for _ in range(runs):
        wait_done([api.execution_create(flow)], stack, timeout=30)
    time.sleep(0.3)  # the worker's and the broker's last writes after the SUCCESS
    busy = meter.read() - start
    meter.settle()
    done = meter.read() - start

    def less_idle(window: Reading, kind: str) -> dict[str, float]:
        rate = idle.per(window.at)
        got, background = getattr(window, kind), getattr(rate, kind)
        return {k: (got[k] - background.get(k, 0)) / runs for k in got}

    cpu = less_idle(busy, "cpu")
    counted = less_idle(done, "counted")
    server = None
    if done.server is not None and idle.server is not None:
        server = (done.server - idle.server * done.at - done.own) / runs
    return PerExecution(sum(cpu.values()), cpu, sum(counted.values()), counted, server)


def costs_measure(
    flows: Flows, runs: int, *, api: Api, stack: Stack, meter: Meter, idle: Reading, report: Report
) -> None:
    report.section(f"per execution: {runs} one-task and {runs} {1 + EXTRA_TASKS}-task runs")
    print(f"{runs} one-task and {runs} {1 + EXTRA_TASKS}-task executions, one at a time ...")
    for flow in (flows.one_log, flows.many_logs, flows.one_log, flows.one_log):
        wait_done([api.execution_create(flow)], stack, timeout=60)  # warm-up
    one = per_execution_measure(flows.one_log, runs, api=api, stack=stack, meter=meter, idle=idle)
    many = per_execution_measure(
        flows.many_logs, runs, api=api, stack=stack, meter=meter, idle=idle
    )
    if one.counted <= 0:
        raise BenchError("No transaction was counted: is FLOWSITE_COUNT_TRANSACTIONS honoured?")

    def roles(values: dict[str, float], unit: float = 1.0, fmt: str = "{:.1f}") -> str:
        return ", ".join(f"{r} {fmt.format(v * unit)}" for r, v in sorted(values.items()) if v)

    extra_counted = (many.counted - one.counted) / EXTRA_TASKS
    if one.server is not None and many.server is not None:
        extra_server = (many.server - one.server) / EXTRA_TASKS
        report.derived(
            "transactions per one-task execution (pg_stat_database)",
            f"{one.server:.1f}",
            target=f"<= {TARGET_TRANSACTIONS_ONE}",
            ok=one.server <= TARGET_TRANSACTIONS_ONE,
        )
        report.derived(
            "transactions per extra task (pg_stat_database)",
            f"{extra_server:.1f}",
            target=f"<= {TARGET_TRANSACTIONS_EXTRA}",
            ok=extra_server <= TARGET_TRANSACTIONS_EXTRA,
        )
    report.derived(
        "transactions per one-task execution (counted in the processes)",
        f"{one.counted:.1f}",
        target=f"<= {TARGET_TRANSACTIONS_ONE}",
        ok=one.counted <= TARGET_TRANSACTIONS_ONE,
        spread=roles(one.counted_by_role),
    )
    report.derived(
        "transactions per extra task (counted in the processes)",
        f"{extra_counted:.1f}",
        target=f"<= {TARGET_TRANSACTIONS_EXTRA}",
        ok=extra_counted <= TARGET_TRANSACTIONS_EXTRA,
    )
    report.derived(
        "CPU of Flowsite's processes per one-task execution",
        f"{one.cpu * 1000:.1f} ms",
        target=f"<= {TARGET_CPU_MS} ms",
        ok=one.cpu * 1000 <= TARGET_CPU_MS,
        spread=roles(one.cpu_by_role, 1000, "{:.1f} ms"),
    )
    report.derived(
        "CPU of Flowsite's processes per extra task",
        f"{(many.cpu - one.cpu) / EXTRA_TASKS * 1000:.1f} ms",
    )
    auth_measure(api=api, stack=stack, meter=meter, idle=idle, report=report)
    report.notes.append(
        "Transactions and CPU per execution: REST API trigger (Bearer token) to SUCCESS of "
        "Log tasks, one execution at a time, less the idle rate; CPU has a 10 ms grain per "
        "process (/proc), hence many runs. PostgreSQL also counts what the processes cannot: "
        "the connection health checks (CONN_HEALTH_CHECKS' SELECT 1)."
    )


def auth_measure(
    *, api: Api, stack: Stack, meter: Meter, idle: Reading, report: Report, calls: int = AUTH_CALLS
) -> None:
    """One API read with HTTP Basic auth beside the same read with a Bearer token:
    latency, and the web server's CPU per call. Basic auth hashes the password (about a
    quarter of a second of CPU) on its first call only; the verified header is then
    remembered (FLOWSITE_BASIC_AUTH_CACHE_SECONDS)."""
    report.section(f"API authentication: GET {AUTH_PATH}, {calls} calls each")
    password = secrets.token_urlsafe(24)
    user = get_user_model().objects.get(username=BENCH_USER)
    user.set_password(password)
    user.save(update_fields=["password"])
    basic = "Basic " + base64.b64encode(f"{BENCH_USER}:{password}".encode()).decode()
    bearer = f"Bearer {api.token}"
    report.derived(
        "Basic auth, first call (the password is hashed)",
        ms(api.get(AUTH_PATH, authorization=basic)),
    )
    for name, authorization in (("Bearer token", bearer), ("HTTP Basic auth", basic)):
        api.get(AUTH_PATH, authorization=authorization)  # warm-up
        start = meter.read()
        took = [api.get(AUTH_PATH, authorization=authorization) for _ in range(calls)]
        window = meter.read() - start
        web_cpu = window.cpu["web"] - idle.per(window.at).cpu.get("web", 0)
        report.measured(f"{name}: latency of a call", took)
        report.derived(f"{name}: web server CPU per call", ms(web_cpu / calls))
