"""The measures of one execution at a time: hello-world against the bare costs under it,
Windmill's public workload (40 sequential fibo(10) tasks) and a Parallel of sleeps."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from django.conf import settings

from executions.runners.process import task_venv

from .environment import Setup
from .flows import PARALLEL_BRANCHES, Flows
from .latency import (
    POLL,
    Sample,
    bare_measure,
    chain_stages,
    docker_unavailable,
    execution_measure,
    executions_measure,
    hello_stages,
)
from .report import Report, ms, secs, signed_ms
from .stack import Stack

TARGET_PROCESS_MS = 100.0
TARGET_DOCKER_OVERHEAD_MS = 150.0
TARGET_WINDMILL_S = 2.0
TARGET_PARALLEL_S = 1.5
WINDMILL_REFERENCE = "Windmill 4.4 s, Kestra 6.0 s, Airflow 116 s"


def runs_measure(
    args: argparse.Namespace, setup: Setup, stack: Stack, flows: Flows, report: Report
) -> None:
    """hello-world on the Process and Docker runners against the bare costs under them,
    Windmill's 40 fibo tasks, and a Parallel of sleeps: one execution at a time."""
    report.section("one execution at a time, triggered in this process")
    timeout = args.timeout
    image = settings.FLOWSITE_DEFAULT_PYTHON_IMAGE
    why_not = "disabled by --no-docker" if args.no_docker else docker_unavailable(image)

    # Warm-up: creates the Process runner's venv and proves the cluster takes jobs. Each
    # django-q2 worker process imports the job's code and fills its caches on its first
    # job (about 0.1-0.2 s here), so every worker process gets jobs before the measures.
    print("warming up (creates the Process runner's venv on first use) ...", flush=True)
    execution_measure(flows.process, stack, timeout=max(timeout, 180))
    time.sleep(0.5)  # the other django-q2 workers finish starting
    for _ in range(settings.Q_CLUSTER["workers"]):
        execution_measure(flows.process, stack, timeout)
        if why_not is None:
            execution_measure(flows.docker, stack, timeout)

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
        process.append(execution_measure(flows.process, stack, timeout))
        bare["python"] += bare_measure(bare_python, 1)
        bare["sh"] += bare_measure(bare_sh, 1, cwd=scratch)
        if why_not is None:
            time.sleep(args.pause)
            docker.append(execution_measure(flows.docker, stack, timeout))
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
        execution_measure(flows.windmill, stack, timeout)  # warm-up
        windmill = executions_measure(
            flows.windmill, stack, args.windmill_runs, timeout=timeout, pause=args.pause
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
    execution_measure(flows.parallel, stack, timeout)  # warm-up
    walls = [
        s.wall
        for s in executions_measure(flows.parallel, stack, 5, timeout=timeout, pause=args.pause)
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
