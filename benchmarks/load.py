"""Executions per minute through the REST API, against the real stack: first a fixed 33
starts a second for half a minute (issue 11's load: errors, failed jobs, latency), then a
steady open-loop rate stepped up until the 95th percentile from trigger to end crosses one
second, then a burst of executions all sent at once.

Open loop: each execution has its moment to be sent, whether the ones before it ended or
not, and its latency counts from that moment, so a server that falls behind cannot hide
it by slowing the client down. Everything is bounded: a fixed list of rates, a fixed
number of executions per step, and a deadline for each step to drain. Loopback only.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import connection
from django_q.models import Failure

from executions.models import TERMINAL_STATES, Execution, State
from flows.models import Flow

from .environment import NAMESPACE
from .report import Report
from .stack import Api, Stack

TARGET_PER_MINUTE = 2000
TARGET_P95 = 1.0  # seconds
KESTRA = "Kestra publishes 1500 executions/min at p95 0.26 s (4 vCPU, database on another host)"
STEADY_RATES = (600, 1200, 1500, 2000, 2500, 3000)  # per minute: Kestra's 1500, the target 2000
FIXED_RATE = 33  # starts a second, whatever the stepping reaches: 500s and failed jobs show
SENDERS = 16  # client threads: enough that sending is never what holds a step back
DRAIN = 30.0  # seconds a step's executions get to end after the last one was sent
WATCH_EVERY = 0.01


@dataclass
class LoadResult:
    sent: int = 0
    latencies: list[float] = field(default_factory=list)  # of the executions that ended well
    errors: list[str] = field(default_factory=list)
    first_at: float = 0.0
    last_end: float = 0.0

    def percentile(self, fraction: float) -> float:
        """Of all executions meant to be sent: one that never ended counts as endless."""
        ordered = sorted(self.latencies) + [math.inf] * (self.sent - len(self.latencies))
        if not ordered:
            return math.inf
        return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]

    @property
    def per_minute(self) -> float:
        span = self.last_end - self.first_at
        return len(self.latencies) / span * 60 if span > 0 else 0.0


def load_run(api: Api, stack: Stack, flow: Flow, offsets: list[float]) -> LoadResult:
    """Send one execution of ``flow`` at each offset (seconds from now); watch them end."""
    result = LoadResult(sent=len(offsets))
    start = time.monotonic() + 0.2
    result.first_at = start
    pending: dict[str, float] = {}  # execution id -> the moment it was meant to be sent
    lock = threading.Lock()
    all_sent = threading.Event()

    def send(offset: float) -> None:
        due = start + offset
        time.sleep(max(0.0, due - time.monotonic()))
        try:
            pk = api.execution_create(flow)
        except Exception as exc:
            with lock:
                result.errors.append(repr(exc))
            return
        with lock:
            pending[pk] = due

    def watch() -> None:
        deadline = start + (offsets[-1] if offsets else 0) + DRAIN
        try:
            while time.monotonic() < deadline:
                with lock:
                    ids = list(pending)
                if not ids and all_sent.is_set():
                    return
                ended = list(
                    Execution.objects.filter(pk__in=ids, state__in=TERMINAL_STATES).values_list(
                        "pk", "state"
                    )
                )
                now = time.monotonic()
                with lock:
                    for pk, state in ended:
                        due = pending.pop(pk)
                        if state == State.SUCCESS:
                            result.latencies.append(now - due)
                            result.last_end = now
                        else:
                            result.errors.append(f"execution {pk} ended {state}")
                time.sleep(WATCH_EVERY)
        except Exception as exc:  # the database refused us: what is still pending never ends
            with lock:
                result.errors.append(f"watching failed: {exc!r}")
        finally:
            connection.close()  # this thread's own

    watcher = threading.Thread(target=watch, name="load-watch")
    watcher.start()
    with ThreadPoolExecutor(SENDERS, thread_name_prefix="load-send") as senders:
        list(senders.map(send, offsets))
    all_sent.set()
    watcher.join()
    stack.check_alive()
    return result


def _quiet(stack: Stack, seconds: float = 30) -> None:
    """Wait until no execution of a step is still going, so the next starts from idle."""
    deadline = time.monotonic() + seconds
    going = Execution.objects.filter(namespace=NAMESPACE).exclude(state__in=TERMINAL_STATES)
    while going.exists() and time.monotonic() < deadline:
        stack.check_alive()
        time.sleep(0.2)
    time.sleep(1)


def _row(report: Report, name: str, result: LoadResult, *, target: str, ok: bool | None) -> None:
    p50, p95 = result.percentile(0.5), result.percentile(0.95)
    report.derived(
        name,
        f"{result.per_minute:.0f}/min",
        target=target,
        ok=ok,
        spread=f"p50 {p50:.3f} s, p95 {p95:.3f} s, ended {len(result.latencies)}/{result.sent}"
        + (f", errors {len(result.errors)}: {result.errors[0]}" if result.errors else ""),
    )


def fixed_rate_measure(
    flow: Flow, *, api: Api, stack: Stack, report: Report, seconds: float
) -> None:
    """FIXED_RATE starts a second for ``seconds``: every answer that is not a start, every
    execution that did not succeed or did not end (stuck), every failed django-q2 job."""
    report.section(f"{FIXED_RATE} starts/s for {seconds:g} s through the REST API ({flow.flow_id})")
    count = round(FIXED_RATE * seconds)
    print(f"fixed load: {FIXED_RATE} starts/s for {seconds:g} s ({count} executions) ...")
    _quiet(stack)
    failed_before, busy_before = Failure.objects.count(), api.busy
    log_before = len(stack.log_tail(chars=10**9))
    result = load_run(api, stack, flow, [n / FIXED_RATE for n in range(count)])
    failed = Failure.objects.count() - failed_before
    log = stack.log_tail(chars=10**9)[log_before:]  # the stack's own word on it
    crashes = log.count("Traceback")
    stuck = result.sent - len(result.latencies) - len(result.errors)
    errors = len(result.errors) + stuck + failed + crashes
    report.derived(
        f"  errors at {FIXED_RATE} starts/s",
        str(errors),
        target="0",
        ok=errors == 0,
        spread=f"{len(result.errors)} refused or not SUCCESS, {stuck} not ended after "
        f"{DRAIN:g} s, {failed} failed jobs, {crashes} tracebacks in the log "
        f"({log.count('too many clients')} saying too many clients); "
        f"{api.busy - busy_before} answers 503 (sent again)"
        + (f"; first: {result.errors[0]}" if result.errors else ""),
    )
    p50, p95 = result.percentile(0.5), result.percentile(0.95)
    report.derived(
        f"  p50 / p95 from start to end at {FIXED_RATE} starts/s",
        f"{p50:.3f} / {p95:.3f} s",
        spread=f"ended {len(result.latencies)}/{result.sent}, {result.per_minute:.0f}/min",
    )


def load_measure(
    flow: Flow, *, api: Api, stack: Stack, report: Report, step_seconds: float, burst: int
) -> None:
    report.section(f"throughput through the REST API, one-task flow ({flow.flow_id})")
    best = 0
    for rate in STEADY_RATES:
        count = round(rate / 60 * step_seconds)
        print(f"steady load: {rate}/min for {step_seconds:g} s ({count} executions) ...")
        _quiet(stack)
        result = load_run(api, stack, flow, [n * 60 / rate for n in range(count)])
        held = result.percentile(0.95) < TARGET_P95 and not result.errors
        _row(report, f"  steady {rate}/min offered", result, target="", ok=None)
        if not held:
            break
        best = rate
    report.derived(
        "steady executions/min at p95 < 1 s",
        f"{best}/min" if best else f"< {STEADY_RATES[0]}/min",
        target=f">= {TARGET_PER_MINUTE}/min",
        ok=best >= TARGET_PER_MINUTE,
    )
    print(f"burst: {burst} executions at once ...")
    _quiet(stack)
    result = load_run(api, stack, flow, [0.0] * burst)
    _row(
        report,
        f"burst of {burst}: executions/min until all ended",
        result,
        target=f">= {TARGET_PER_MINUTE}/min",
        ok=result.per_minute >= TARGET_PER_MINUTE and not result.errors,
    )
    report.notes.append(
        f"{KESTRA}. Here the load client shares the machine's cores with the stack; "
        f"a steady step lasts {step_seconds:g} s and stops the stepping once p95 >= 1 s."
    )
