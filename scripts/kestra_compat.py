"""How much of Kestra's own test material Flowsite takes unchanged: a measurement run
beside the suite, never in it.

It reads a work tree of kestra-io/kestra, takes the flows of its tests
(``core/src/test/resources/flows/``, and the webserver's and cli's), keeps those that use
only core and script types (the rest are listed as out of scope), checks each with
Flowsite's own flow parser, exactly as saving or the validate API would, then runs on a
real Flowsite (a temporary database, a real worker) the accepted flows whose outcome
Kestra's Java tests assert, and compares. The outcomes Kestra expects are our own table,
scripts/kestra_expectations.toml (drafted by scripts/kestra_expectations_draft.py).

    make compat KESTRA_CHECKOUT=/path/to/kestra

A bare clone (a mirror) has no work tree: given one, the script exports the parts it reads
from its HEAD to a temporary directory first, as this would:

    git --git-dir=/work/.mirror/kestra-io+kestra/repo archive HEAD \\
        core/src/test webserver/src/test cli/src/test jdbc/src/test | tar -x -C DIR

``--no-run`` checks the flows only; ``--report FILE`` also writes the report there.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a file: ``python scripts/kestra_compat.py``
    sys.path.insert(0, str(ROOT))

from scripts.kestra_compat_flows import FLOW_DIRS, flows_collect, refusal_cause  # noqa: E402
from scripts.kestra_compat_report import (  # noqa: E402
    RunResult,
    expectations_load,
    report_render,
)


def _flowsite_environment(work: Path) -> None:
    """A Flowsite of its own: a temporary SQLite database, no Redis, its own queue."""
    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{work / 'flowsite.sqlite3'}",
            "FLOWSITE_DATA_DIR": str(work / "data"),
            "FLOWSITE_PROCESS_NAMESPACES": "*",
            "FLOWSITE_QUEUE_NAME": f"flowsite-compat-{os.getpid()}",
            "DJANGO_SETTINGS_MODULE": "flowsite.settings",
        }
    )


def _runner() -> ModuleType:
    """scripts/kestra_compat_run.py, loaded from beside this file whichever Flowsite tree
    is measured (that tree need not have it)."""
    spec = importlib.util.spec_from_file_location(
        "kestra_compat_run", Path(__file__).with_name("kestra_compat_run.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _is_bare_repository(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def _commit(path: Path) -> str:
    """`` at <commit> (<date>)`` when ``path`` is a git repository, else nothing."""
    where = [f"--git-dir={path}"] if _is_bare_repository(path) else ["-C", str(path)]
    found = subprocess.run(
        ["git", *where, "log", "-1", "--format=%h (%cs)"], capture_output=True, text=True
    )
    return f" at {found.stdout.strip()}" if found.returncode == 0 and found.stdout else ""


def _exported(git_dir: Path, into: Path) -> Path:
    """The parts of a bare clone this reads, exported to a work tree of their own."""
    into.mkdir(parents=True)

    def present(part: str) -> bool:  # a module the checkout's HEAD has
        probe = ["git", f"--git-dir={git_dir}", "cat-file", "-e", f"HEAD:{part}"]
        return subprocess.run(probe, capture_output=True).returncode == 0

    modules = ("core", "webserver", "cli", "jdbc")
    parts = [part for part in (f"{m}/src/test" for m in modules) if present(part)]
    archive = subprocess.run(
        ["git", f"--git-dir={git_dir}", "archive", "HEAD", *parts],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Kestra's test flows, measured on Flowsite")
    parser.add_argument("checkout", type=Path, help="a work tree of kestra-io/kestra")
    parser.add_argument("--no-run", action="store_true", help="check the flows, run none")
    parser.add_argument("--report", type=Path, help="also write the report to this file")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per execution")
    parser.add_argument(
        "--flowsite",
        type=Path,
        help="the Flowsite tree to measure, e.g. another worktree (default: this one); "
        "run the script with that tree's Python",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flowsite-compat-") as work:
        source = f"Checkout: {args.checkout}{_commit(args.checkout)}"
        if _is_bare_repository(args.checkout):
            args.checkout = _exported(args.checkout, Path(work) / "kestra")
        if not (args.checkout / FLOW_DIRS[0]).is_dir():
            parser.error(f"{args.checkout} has no {FLOW_DIRS[0]}: is it a Kestra work tree?")
        _flowsite_environment(Path(work))
        root = (args.flowsite or ROOT).resolve()
        sys.path.insert(0, str(root))
        kestra_compat_run = _runner()  # after the environment: it sets Django up

        flows = flows_collect(args.checkout)
        kestra_compat_run.flowsite_prepare(root=root)
        for flow in flows:
            flow.errors = kestra_compat_run.flow_check(flow.text)
            flow.causes = [refusal_cause(m, p, flow.text) for m, p in flow.errors]
        runs = None
        if not args.no_run:
            outcomes = kestra_compat_run.flows_run(
                flows=[f for f in flows if f.expected_valid and f.in_scope and f.accepted],
                expectations=expectations_load(),
                root=root,
                timeout=args.timeout,
            )
            runs = [RunResult(*outcome) for outcome in outcomes]
    expectations = expectations_load()
    report = report_render(flows, runs, source=source, expectations=expectations)
    sys.stdout.write(report)
    if args.report:
        args.report.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
