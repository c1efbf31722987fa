#!/usr/bin/env python
"""How long Flowsite takes from the Run button to SUCCESS, against a real worker.

``make bench`` runs this file. In one run it measures, with a real ``manage.py qcluster``
subprocess on a throwaway database:

1. hello-world (flows/examples/hello-world.yml) on the Process runner,
2. the same on the Docker runner (its default image),
3. the bare costs under them: ``python -c 'print(1)'`` with the Process runner's own
   interpreter, and ``docker run --rm IMAGE python -c 'print(1)'``,
4. Flowsite's overhead over those bare costs,
5. Windmill's public workload: one flow of 40 sequential Python tasks, each fibo(10).

"Trigger" is the call to ``executions.engine.execution_start`` (a committed transaction,
as the Run button and the REST API make); "SUCCESS" is the moment this process sees the
Execution row in state SUCCESS (it polls every 2 ms). The tables report that wall-clock
time; the stage breakdowns come from the rows' own timestamps, written by the worker on
the same host clock.

By default everything lives in a temporary FLOWSITE_DATA_DIR with SQLite and django-q2's
ORM broker. DATABASE_URL and REDIS_URL, when set, are honoured so the team configuration
can be measured too (the PostgreSQL database is created when missing); the queue name
and Redis prefix then default to ``flowsite-bench`` so a real cluster's jobs are never
taken.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script, Python only puts benchmarks/ on it

NAMESPACE = "bench"
POLL = 0.002  # seconds between two looks at the Execution row
PROCESS_RUNNER = "io.kestra.plugin.core.runner.Process"
FIBO_SCRIPT = """\
def fibo(n):
    return n if n <= 1 else fibo(n - 1) + fibo(n - 2)


print(fibo(10))
"""

TARGET_PROCESS_MS = 100.0
TARGET_DOCKER_OVERHEAD_MS = 150.0
TARGET_WINDMILL_S = 2.0
WINDMILL_REFERENCE = "Windmill 4.4 s, Kestra 6.0 s, Airflow 116 s"


class BenchError(Exception):
    pass


# --- Environment: a throwaway Flowsite --------------------------------------------------


@dataclass
class Setup:
    data_dir: Path
    keep: bool
    team: bool
    label: str = ""


def setup_environment(keep: bool) -> Setup:
    """Point this process (and the worker it starts) at a throwaway Flowsite."""
    data_dir = Path(tempfile.mkdtemp(prefix="flowsite-bench-"))
    os.environ["FLOWSITE_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "flowsite.settings"
    team = bool(os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL"))
    if team:
        # Never share a queue or channel prefix with a real cluster by accident.
        os.environ.setdefault("FLOWSITE_QUEUE_NAME", "flowsite-bench")
        os.environ.setdefault("FLOWSITE_REDIS_PREFIX", "flowsite-bench")
    return Setup(data_dir=data_dir, keep=keep, team=team)


def postgres_database_ensure(url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    params = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    name = config["NAME"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_ready() -> None:
    import django
    from django.core.management import call_command

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        postgres_database_ensure(url)
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from django_q.brokers import get_broker

    # Jobs left by an interrupted run would otherwise be picked up during the measures.
    get_broker().purge_queue()


def config_label() -> str:
    from django.conf import settings
    from django.db import connection

    vendor = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(
        connection.vendor, connection.vendor
    )
    cluster = settings.Q_CLUSTER
    broker = "Redis broker" if "redis" in cluster else "ORM broker"
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    kind = "team" if os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL") else "embedded"
    return (
        f"{kind}: {vendor} + django-q2 {broker} (queue {cluster['name']!r}, "
        f"{cluster['workers']} workers, poll {cluster['poll']} s), {layer}"
    )


# --- The worker: a real django-q2 cluster ---------------------------------------------


class Worker:
    """``manage.py qcluster`` in its own process group, stopped whatever happens."""

    def __init__(self, data_dir: Path, argv: Sequence[str] = ("manage.py", "qcluster")):
        self.log_path = data_dir / "worker.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, *argv],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise BenchError(f"The worker exited:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        with suppress(OSError):
            return self.log_path.read_text()[-chars:]
        return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # the cluster stops its pusher, monitor and workers
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                # Its own process group holds only the cluster's processes.
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


# --- Flows ---------------------------------------------------------------------------


def _hello_world_source(flow_id: str, *, process: bool) -> str:
    import yaml

    flow = yaml.safe_load((ROOT / "flows" / "examples" / "hello-world.yml").read_text())
    flow["id"] = flow_id
    flow["namespace"] = NAMESPACE
    if process:
        for task in flow["tasks"]:
            task["taskRunner"] = {"type": PROCESS_RUNNER}
    return yaml.safe_dump(flow, sort_keys=False)


def _windmill_source(tasks: int) -> str:
    import yaml

    flow = {
        "id": "windmill-fibo",
        "namespace": NAMESPACE,
        "description": f"Windmill's benchmark: {tasks} sequential Python tasks, each fibo(10)",
        "tasks": [
            {
                "id": f"fibo-{n:02d}",
                "type": "io.kestra.plugin.scripts.python.Script",
                "taskRunner": {"type": PROCESS_RUNNER},
                "script": FIBO_SCRIPT,
            }
            for n in range(1, tasks + 1)
        ],
    }
    return yaml.safe_dump(flow, sort_keys=False)


PARALLEL_BRANCHES = 4  # one per worker process of a default cluster (FLOWSITE_WORKERS)
TARGET_PARALLEL_S = 1.5


def _parallel_source() -> str:
    import yaml

    flow = {
        "id": "parallel-sleeps",
        "namespace": NAMESPACE,
        "description": f"A Parallel of {PARALLEL_BRANCHES} one-second sleeps",
        "tasks": [
            {
                "id": "fan-out",
                "type": "io.kestra.plugin.core.flow.Parallel",
                "tasks": [
                    {
                        "id": f"sleep-{n}",
                        "type": "io.kestra.plugin.scripts.shell.Commands",
                        "taskRunner": {"type": PROCESS_RUNNER},
                        "commands": ["sleep 1"],
                    }
                    for n in range(PARALLEL_BRANCHES)
                ],
            }
        ],
    }
    return yaml.safe_dump(flow, sort_keys=False)


@dataclass
class Flows:
    process: Any
    docker: Any
    windmill: Any
    parallel: Any


def flows_save(windmill_tasks: int) -> Flows:
    from flows.models import Flow

    return Flows(
        process=Flow.save_source(_hello_world_source("hello-world-process", process=True)),
        docker=Flow.save_source(_hello_world_source("hello-world-docker", process=False)),
        windmill=Flow.save_source(_windmill_source(windmill_tasks)),
        parallel=Flow.save_source(_parallel_source()),
    )


# --- One measured execution ------------------------------------------------------------


@dataclass
class Sample:
    execution_id: str
    wall: float  # seconds, trigger to SUCCESS seen
    trigger_at: float  # time.time() at the trigger
    seen_at: float  # time.time() when this process saw SUCCESS


def execution_measure(flow: Any, worker: Worker, timeout: float) -> Sample:
    from executions.engine import execution_start
    from executions.models import TERMINAL_STATES, Execution, State

    trigger_at = time.time()
    started = time.perf_counter()
    execution = execution_start(flow=flow)
    rows = Execution.objects.filter(pk=execution.pk).values_list("state", flat=True)
    deadline = started + timeout
    while True:
        state = rows.get()
        if state in TERMINAL_STATES:
            break
        now = time.perf_counter()
        if now > deadline:
            raise BenchError(
                f"Execution {execution.pk} of {flow} still {state} after {timeout:g} s\n"
                f"{worker.log_tail()}"
            )
        worker.check_alive()
        time.sleep(POLL)
    wall = time.perf_counter() - started
    seen_at = time.time()
    if state != State.SUCCESS:
        raise BenchError(
            f"Execution {execution.pk} of {flow} ended {state}:\n{execution_logs(execution.pk)}"
        )
    return Sample(execution.pk, wall, trigger_at, seen_at)


def execution_logs(execution_id: str) -> str:
    from executions.models import LogLine

    lines = LogLine.objects.filter(execution_id=execution_id).values_list("task_id", "message")
    return "\n".join(f"  [{task}] {message}" for task, message in lines)


def executions_measure(
    flow: Any, worker: Worker, runs: int, *, timeout: float, pause: float
) -> list[Sample]:
    samples = []
    for _ in range(runs):
        time.sleep(pause)  # the cluster is idle when someone clicks Run
        samples.append(execution_measure(flow, worker, timeout))
    return samples


# --- Stage breakdowns from the rows' own timestamps ------------------------------------


def _ts(value: Any) -> float:
    return value.timestamp()


def hello_stages(samples: Sequence[Sample]) -> dict[str, list[float]]:
    """Where a one-task execution's time goes, per sample, in seconds."""
    from executions.models import Execution, LogLine

    stages: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        stages.setdefault(name, []).append(seconds)

    for sample in samples:
        execution = Execution.objects.get(pk=sample.execution_id)
        task_run = execution.task_runs.get()
        first = (
            LogLine.objects.filter(task_run=task_run, stream=LogLine.Stream.STDOUT)
            .order_by("id")
            .values_list("timestamp", flat=True)
            .first()
        )
        claimed, ended = _ts(task_run.started_at), _ts(task_run.ended_at)
        add("trigger -> Execution row created", _ts(execution.created_at) - sample.trigger_at)
        add("created -> task run claimed by a worker", claimed - _ts(execution.created_at))
        if first is not None:
            add("claimed -> first output line read", _ts(first) - claimed)
            add("first line -> task run ended", ended - _ts(first))
        else:
            add("claimed -> task run ended (no output line)", ended - claimed)
        add("task run ended -> Execution SUCCESS", _ts(execution.ended_at) - ended)
        add("SUCCESS committed -> seen by the trigger", sample.seen_at - _ts(execution.ended_at))
    return stages


def chain_stages(samples: Sequence[Sample]) -> dict[str, list[float]]:
    """Where a many-task execution's time goes, per sample, in seconds."""
    from executions.models import Execution

    stages: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        stages.setdefault(name, []).append(seconds)

    for sample in samples:
        execution = Execution.objects.get(pk=sample.execution_id)
        runs = list(execution.task_runs.order_by("position"))
        durations = [_ts(r.ended_at) - _ts(r.started_at) for r in runs]
        handoffs = [_ts(b.started_at) - _ts(a.ended_at) for a, b in pairwise(runs)]
        add("trigger -> first task run claimed", _ts(runs[0].started_at) - sample.trigger_at)
        add(f"sum of {len(runs)} task runs (claim -> end)", sum(durations))
        add(f"sum of {len(handoffs)} hand-offs (end -> next claim)", sum(handoffs))
        add(
            "last task run ended -> Execution SUCCESS",
            _ts(execution.ended_at) - _ts(runs[-1].ended_at),
        )
        add("SUCCESS committed -> seen by the trigger", sample.seen_at - _ts(execution.ended_at))
        add("  median task run (claim -> end)", statistics.median(durations))
        if handoffs:
            add("  median hand-off (end -> next claim)", statistics.median(handoffs))
    return stages


# --- Bare costs -------------------------------------------------------------------------


def bare_measure(argv: Sequence[str], runs: int, *, cwd: Path | None = None) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise BenchError(f"{' '.join(argv)} failed: {done.stderr.decode()[-2000:]}")
    return times


def docker_unavailable(image: str) -> str | None:
    """Why the Docker measures cannot run here, or None."""
    import docker
    from docker.errors import DockerException, ImageNotFound

    try:
        client = docker.from_env()
        client.ping()
        client.images.get(image)
    except ImageNotFound:
        return f"image {image} is missing (make images)"
    except DockerException as exc:
        return f"no Docker engine answers ({exc})"
    if shutil.which("docker") is None:
        return "the docker command is not on PATH"
    return None


# --- Reporting ---------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def signed_ms(seconds: float) -> str:
    return f"{seconds * 1000:+.1f} ms"


@dataclass
class Row:
    name: str
    value: str
    spread: str = ""
    target: str = ""
    verdict: str = ""


@dataclass
class Report:
    title: str
    rows: list[Row] = field(default_factory=list)
    breakdowns: list[tuple[str, dict[str, list[float]], Callable[[float], str]]] = field(
        default_factory=list
    )
    notes: list[str] = field(default_factory=list)

    def measured(
        self,
        name: str,
        values: Sequence[float],
        fmt: Callable[[float], str] = ms,
        target: str = "",
        ok: bool | None = None,
    ) -> float:
        median = statistics.median(values)
        spread = f"min {fmt(min(values))}, max {fmt(max(values))}, n={len(values)}"
        self.rows.append(Row(name, fmt(median), spread, target, _verdict(ok)))
        return median

    def derived(self, name: str, value: str, target: str = "", ok: bool | None = None) -> None:
        self.rows.append(Row(name, value, "", target, _verdict(ok)))

    def skipped(self, name: str, reason: str) -> None:
        self.rows.append(Row(name, "skipped", reason))

    def print(self) -> None:
        width = max(len(r.name) for r in self.rows)
        print()
        print(self.title)
        print("=" * len(self.title))
        header = f"{'measure':<{width}}  {'median':>10}  {'target':<9} {'':<6}  spread"
        print(header)
        print("-" * len(header))
        for r in self.rows:
            print(f"{r.name:<{width}}  {r.value:>10}  {r.target:<9} {r.verdict:<6}  {r.spread}")
        for title, stages, fmt in self.breakdowns:
            print()
            print(f"{title}, from the rows' own timestamps")
            name_width = max(len(n) for n in stages)
            print(f"  {'stage':<{name_width}}  {'median':>10}  {'max':>10}")
            for name, values in stages.items():
                median, top = fmt(statistics.median(values)), fmt(max(values))
                print(f"  {name:<{name_width}}  {median:>10}  {top:>10}")
        for note in self.notes:
            print(f"note: {note}")


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("MET" if ok else "MISSED")


# --- The benchmark ----------------------------------------------------------------------


def bench(args: argparse.Namespace, setup: Setup, worker: Worker) -> Report:
    from django.conf import settings

    from executions.runners.process import task_venv

    flows = flows_save(args.tasks)
    report = Report(f"Flowsite benchmark - {setup.label}")
    timeout = args.timeout
    image = settings.FLOWSITE_DEFAULT_PYTHON_IMAGE
    why_not = "disabled by --no-docker" if args.no_docker else docker_unavailable(image)

    # Warm-up: creates the Process runner's venv and proves the cluster takes jobs. Each
    # django-q2 worker process imports the job's code and fills its caches on its first
    # job (about 0.1-0.2 s here), so every worker process gets jobs before the measures.
    print("warming up (creates the Process runner's venv on first use) ...", flush=True)
    execution_measure(flows.process, worker, timeout=max(timeout, 180))
    time.sleep(0.5)  # the other django-q2 workers finish starting
    for _ in range(settings.Q_CLUSTER["workers"]):
        execution_measure(flows.process, worker, timeout)
        if why_not is None:
            execution_measure(flows.docker, worker, timeout)

    python = str(task_venv() / "bin" / "python")
    bare_python = [python, "-c", "print(1)"]
    # What the Process runner starts: /bin/sh -c "set -e; python main.py" in a work dir.
    scratch = setup.data_dir / "bare"
    scratch.mkdir(exist_ok=True)
    (scratch / "main.py").write_text('print("Hello World")\n')
    path = f"PATH={Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    bare_sh = ["env", path, "/bin/sh", "-c", "set -e\npython main.py\n"]
    bare_docker = ["docker", "run", "--rm", image, "python", "-c", "print(1)"]
    bare_measure(bare_python, 2)
    bare_measure(bare_sh, 2, cwd=scratch)
    if why_not is None:
        bare_measure(bare_docker, 1)

    # Interleaved rounds, so that a slow patch of the machine weighs on Flowsite and on the
    # bare baseline it is compared with alike.
    print(f"{args.runs} rounds of hello-world and the bare baselines ...", flush=True)
    process: list[Sample] = []
    docker: list[Sample] = []
    bare: dict[str, list[float]] = {"python": [], "sh": [], "docker": []}
    for _ in range(args.runs):
        time.sleep(args.pause)  # the cluster is idle when someone clicks Run
        process.append(execution_measure(flows.process, worker, timeout))
        bare["python"] += bare_measure(bare_python, 1)
        bare["sh"] += bare_measure(bare_sh, 1, cwd=scratch)
        if why_not is None:
            time.sleep(args.pause)
            docker.append(execution_measure(flows.docker, worker, timeout))
            bare["docker"] += bare_measure(bare_docker, 1)

    process_median = report.measured(
        "Process runner hello-world, trigger -> SUCCESS",
        [s.wall for s in process],
        target=f"< {TARGET_PROCESS_MS:.0f} ms",
        ok=statistics.median(s.wall for s in process) * 1000 < TARGET_PROCESS_MS,
    )
    report.breakdowns.append(("Process hello-world stages", hello_stages(process), ms))
    docker_median = None
    if why_not is None:
        docker_median = report.measured(
            f"Docker runner hello-world ({image}), trigger -> SUCCESS", [s.wall for s in docker]
        )
        report.breakdowns.append(("Docker hello-world stages", hello_stages(docker), ms))
    else:
        report.skipped("Docker runner hello-world, trigger -> SUCCESS", why_not)
    python_median = report.measured("bare: task venv python -c 'print(1)'", bare["python"])
    report.measured("bare: sh -c 'python main.py' (the runner's command)", bare["sh"])
    if why_not is None:
        docker_bare_median = report.measured(
            f"bare: docker run --rm {image} python -c 'print(1)'", bare["docker"]
        )
    else:
        report.skipped("bare: docker run --rm ... python -c 'print(1)'", why_not)
    report.derived("Process end-to-end / bare python", f"{process_median / python_median:.1f} x")
    report.derived("Process end-to-end - bare python", signed_ms(process_median - python_median))
    if docker_median is not None:
        overhead = docker_median - docker_bare_median
        report.derived(
            "Docker end-to-end - bare docker run",
            signed_ms(overhead),
            target=f"< {TARGET_DOCKER_OVERHEAD_MS:.0f} ms",
            ok=overhead * 1000 < TARGET_DOCKER_OVERHEAD_MS,
        )

    if args.windmill_runs:
        print(f"Windmill {args.tasks} x fibo(10) x {args.windmill_runs} ...", flush=True)
        execution_measure(flows.windmill, worker, timeout)  # warm-up
        windmill = executions_measure(
            flows.windmill, worker, args.windmill_runs, timeout=timeout, pause=args.pause
        )
        walls = [s.wall for s in windmill]
        report.measured(
            f"Windmill: {args.tasks} sequential fibo(10) tasks, Process, trigger -> SUCCESS",
            walls,
            fmt=secs,
            # The target and the published numbers are for Windmill's 40 tasks only.
            target=f"< {TARGET_WINDMILL_S:g} s" if args.tasks == 40 else "",
            ok=statistics.median(walls) < TARGET_WINDMILL_S if args.tasks == 40 else None,
        )
        report.derived(
            f"Windmill: per task ({args.tasks} tasks)",
            ms(statistics.median(walls) / args.tasks),
        )
        report.breakdowns.append(
            (f"Windmill {args.tasks}-task flow stages", chain_stages(windmill), ms)
        )
        report.notes.append(f"Windmill's published numbers for 40 tasks: {WINDMILL_REFERENCE}.")
    print(f"Parallel of {PARALLEL_BRANCHES} x sleep 1 ...", flush=True)
    execution_measure(flows.parallel, worker, timeout)  # warm-up
    walls = [
        s.wall
        for s in executions_measure(flows.parallel, worker, 5, timeout=timeout, pause=args.pause)
    ]
    report.measured(
        f"Parallel of {PARALLEL_BRANCHES} one-second sleeps, Process, trigger -> SUCCESS",
        walls,
        fmt=secs,
        target=f"< {TARGET_PARALLEL_S:g} s",
        ok=statistics.median(walls) < TARGET_PARALLEL_S,
    )
    report.notes.append(
        f"{args.runs} interleaved rounds after a warm-up; the trigger polls the Execution row "
        f"every {POLL * 1000:g} ms and waits {args.pause:g} s before each execution so the "
        "cluster is idle."
    )
    return report


def bench_data_delete() -> None:
    """On a shared database, leave nothing of the benchmark behind."""
    from executions.models import Execution
    from flows.models import Flow

    Execution.objects.filter(namespace=NAMESPACE).delete()
    Flow.objects.filter(namespace=NAMESPACE).delete()


@contextmanager
def terminated_cleanly() -> Iterator[None]:
    """SIGTERM ends the benchmark through its finally blocks, like Ctrl-C."""

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per measure (default 10)")
    parser.add_argument("--windmill-runs", type=int, default=5, help="default 5; 0 skips it")
    parser.add_argument("--tasks", type=int, default=40, help="tasks in the Windmill flow")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between two runs")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per execution")
    parser.add_argument("--no-docker", action="store_true", help="skip the Docker measures")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    with terminated_cleanly():
        setup = setup_environment(args.keep)
        worker = None
        ready = False
        try:
            try:
                django_ready()
            except Exception as exc:  # most often PostgreSQL or Redis not answering
                raise BenchError(f"cannot prepare the database and queue: {exc}") from exc
            ready = True
            setup.label = config_label()
            print(f"{setup.label}; data dir {setup.data_dir}", flush=True)
            worker = Worker(setup.data_dir)
            report = bench(args, setup, worker)
        except BenchError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
        finally:
            if worker is not None:
                worker.stop()
            if setup.team and ready:
                with suppress(Exception):
                    bench_data_delete()
            if setup.keep:
                print(f"kept {setup.data_dir}")
            else:
                shutil.rmtree(setup.data_dir, ignore_errors=True)
    report.print()
    print(
        f"\nmachine: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}; load average {load_before:.2f} "
        f"before, {os.getloadavg()[0]:.2f} after (other work on the machine skews the numbers)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
