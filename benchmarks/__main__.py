"""``python -m benchmarks``: one configuration, every section, one table."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
from collections.abc import Sequence
from contextlib import suppress

from .environment import (
    BenchError,
    Setup,
    bench_data_delete,
    config_label,
    django_ready,
    setup_environment,
    terminated_cleanly,
)
from .procfs import pss_kib
from .report import Report

SECTIONS = (
    "idle",
    "costs",
    "runs",
    "environments",
    "ingest",
    "load",
    "logpage",
    "logapi",
    "pages",
    "workers",
)


def measure(args: argparse.Namespace, setup: Setup) -> Report:
    # Imported once Django is set up: these modules use its models from the start.
    from . import costs, environments, load, log_api, log_ingest, log_page, pages, runs, workers
    from .big_flow import big_flow_measure
    from .flows import flows_save
    from .stack import Api, Stack, free_port

    flows = flows_save(args.tasks)
    report = Report(f"Flowsite benchmark - {setup.label}")
    stack = Stack(setup, args.port or free_port())
    meter = None
    try:
        stack.wait_ready()
        meter = costs.Meter(setup, stack)
        meter.settle()  # the workers finish starting, the server takes in their queries
        idle = costs.idle_measure(stack, meter, report, args.idle_seconds)
        api = Api(stack.port)
        if "costs" in args.sections:
            big_flow_measure(api, report)
            costs.costs_measure(
                flows, args.cost_runs, api=api, stack=stack, meter=meter, idle=idle, report=report
            )
        if "runs" in args.sections:
            runs.runs_measure(args, setup, stack, flows, report)
        if "environments" in args.sections:
            environments.environments_measure(args, stack, flows, report)
        if "ingest" in args.sections:
            log_ingest.ingest_measure(args, stack, report)
        if "load" in args.sections:
            load.fixed_rate_measure(
                flows.one_log, api=api, stack=stack, report=report, seconds=args.rate_seconds
            )
            load.load_measure(
                flows.one_log,
                api=api,
                stack=stack,
                report=report,
                step_seconds=args.step_seconds,
                burst=args.burst,
            )
        if "logpage" in args.sections:
            log_page.log_page_measure(flows.one_log, stack=stack, report=report)
        if "logapi" in args.sections:
            log_api.log_api_measure(api, stack, report)
        if "pages" in args.sections:
            pages.pages_measure(stack, report)
        if "workers" in args.sections:  # last: it leaves the cluster one worker down a moment
            workers.killed_worker_measure(stack, report)
        after = sum(pss_kib(pid) for pid in stack.processes()) / 1024
        report.derived("PSS of the whole stack after the measures", f"{after:.0f} MiB")
    finally:
        if meter is not None:
            meter.close()
        stack.stop()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="hello-world rounds (default 10)")
    parser.add_argument("--windmill-runs", type=int, default=5, help="default 5; 0 skips it")
    parser.add_argument("--tasks", type=int, default=40, help="tasks in the Windmill flow")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between two runs")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per execution")
    parser.add_argument("--no-docker", action="store_true", help="skip the Docker measures")
    parser.add_argument("--cost-runs", type=int, default=20, help="runs per cost measure")
    parser.add_argument("--idle-seconds", type=float, default=10, help="idle CPU window")
    parser.add_argument("--step-seconds", type=float, default=8, help="one steady-load step")
    parser.add_argument("--rate-seconds", type=float, default=30, help="the 33 starts/s step")
    parser.add_argument("--burst", type=int, default=200, help="executions sent at once")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("FLOWSITE_BENCH_PORT", "0")),
        help="where the stack listens (default: the first free port from 8150)",
    )
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        type=lambda raw: [s for s in raw.split(",") if s],
        help=f"which to run, of {','.join(SECTIONS)} (idle always runs)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args(argv)
    if unknown := set(args.sections) - set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    load_before = os.getloadavg()[0]
    with terminated_cleanly():
        setup = setup_environment(args.keep)
        ready = False
        try:
            try:
                django_ready()
            except Exception as exc:  # most often PostgreSQL or Redis not answering
                raise BenchError(f"cannot prepare the database and queue: {exc}") from exc
            ready = True
            setup.label = config_label()
            print(f"{setup.label}; data dir {setup.data_dir}", flush=True)
            report = measure(args, setup)
        except BenchError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
        finally:
            if setup.team and ready:
                with suppress(Exception):
                    bench_data_delete()
            if setup.keep:
                print(f"kept {setup.data_dir}")
            else:
                shutil.rmtree(setup.data_dir, ignore_errors=True)
                shutil.rmtree(f"{setup.data_dir}-process", ignore_errors=True)
    report.print()
    print(
        f"\nmachine: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}; load average {load_before:.2f} "
        f"before, {os.getloadavg()[0]:.2f} after (other work on the machine skews the numbers)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
