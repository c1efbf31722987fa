"""The supervisor ``make run`` starts: ``python -m flowsite.supervisor``.

It starts the web server (``python -m flowsite.web``: daphne, HTTP and websockets) and the
workers (``manage.py workers``: the django-q2 cluster with the clock), restarts a child
that dies, and stops them all on Ctrl+C or SIGTERM, exiting 0. Plain Python without Django: it holds no more memory than
an interpreter needs (a Django process doing this took 70 MiB).

A child that dies is restarted after a pause that doubles with each quick death (one
that lived less than STABLE seconds), up to MAX_PAUSE. After GIVE_UP quick deaths in a
row it stops everything and exits with that child's status: a crash loop (a taken port,
a database that refuses us) is reported to whoever runs it instead of hidden.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
TICK = 0.5  # seconds between two looks at the children
STABLE = 60.0  # a child that lived this long died by accident, not in a loop
FIRST_PAUSE = 1.0  # seconds before the first restart (--restart-pause); it doubles
MAX_PAUSE = 30.0
GIVE_UP = 5
STOP_WAIT = 30.0  # seconds a child gets to finish its work once asked to stop


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None

    def start(self) -> None:
        # A process group of its own: Ctrl+C in the terminal reaches the supervisor alone,
        # which then asks each child once (a second SIGTERM hangs django-q2's shutdown).
        self.process = subprocess.Popen(self.argv, cwd=ROOT, process_group=0)
        self.started_at = time.monotonic()
        self.restart_at = None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self) -> None:
        if self.running():
            assert self.process is not None
            self.process.terminate()

    def wait_or_kill(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"supervisor: {self.name} did not stop in time; killing it", flush=True)
        self.kill_group()
        with suppress(ChildProcessError):
            self.process.wait()

    def kill_group(self) -> None:
        """Kill whatever is left of the child's process group: django-q2's sentinel and
        workers, a task's processes."""
        if self.process is not None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)


def describe(status: int) -> str:
    if status < 0:
        with suppress(ValueError):
            return f"was killed by {signal.Signals(-status).name}"
    return f"exited with status {status}"


def exit_status(status: int) -> int:
    """A shell's way to report a child's status: 128 + N for a child killed by signal N."""
    return 128 - status if status < 0 else status or 1


def children_for(host: str, port: int, *, workers: bool) -> list[Child]:
    python = sys.executable
    web = [python, "-m", "flowsite.web", "-b", host, "-p", str(port), "flowsite.asgi:application"]
    children = [Child("web", web)]
    if workers:
        children.append(Child("workers", [python, str(ROOT / "manage.py"), "workers"]))
    return children


def supervise(children: Sequence[Child], *, first_pause: float | None = None) -> int:
    """Run ``children`` until asked to stop; the exit status for the supervisor."""
    stopping: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        for child in children:
            child.start()
        while not stopping and not status:
            time.sleep(TICK)
            if stopping:  # a child that the same signal stopped is no crash
                break
            for child in children:
                status = status or _look_after(child, first_pause or FIRST_PAUSE)
    finally:
        for child in children:
            child.terminate()
        deadline = time.monotonic() + STOP_WAIT
        for child in children:
            child.wait_or_kill(deadline)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


def _look_after(child: Child, first_pause: float) -> int:
    """Restart ``child`` when it died and its pause is over; non-zero to give up."""
    now = time.monotonic()
    if child.restart_at is not None:
        if now >= child.restart_at:
            child.start()
        return 0
    if child.process is None or child.process.poll() is None:
        return 0
    status = child.process.returncode
    # What it started lives on without it (django-q2's sentinel and workers outlived a
    # killed `manage.py workers` and ran jobs beside its replacement): its group goes too.
    child.kill_group()
    child.quick_deaths = child.quick_deaths + 1 if now - child.started_at < STABLE else 1
    if child.quick_deaths >= GIVE_UP:
        print(
            f"supervisor: {child.name} {describe(status)}, {child.quick_deaths} times in a "
            "row soon after starting; stopping Flowsite",
            flush=True,
        )
        return exit_status(status)
    pause = min(MAX_PAUSE, first_pause * 2 ** (child.quick_deaths - 1))
    print(f"supervisor: {child.name} {describe(status)}; restarting in {pause:g} s", flush=True)
    child.restart_at = now + pause
    return 0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_PAUSE:
        raise argparse.ArgumentTypeError(
            f"expected seconds between 0 and {MAX_PAUSE:g} (FLOWSITE_RESTART_PAUSE), got {text!r}"
        )
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flowsite.supervisor",
        description="Serve Flowsite: the web server, its workers and clock, restarted if they die.",
    )
    parser.add_argument("--host", default=os.environ.get("FLOWSITE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=os.environ.get("FLOWSITE_PORT", "8000"))
    parser.add_argument("--no-workers", action="store_true", help="Serve the web app only")
    parser.add_argument(
        "--restart-pause",
        type=_seconds,
        default=os.environ.get("FLOWSITE_RESTART_PAUSE", str(FIRST_PAUSE)),
        help="Seconds before restarting a child that died; doubles while it keeps dying",
    )
    args = parser.parse_args(argv)
    children = children_for(args.host, args.port, workers=not args.no_workers)
    print(f"Flowsite is starting on http://{args.host}:{args.port}/ (Ctrl+C stops it)", flush=True)
    threading.Thread(target=announce_when_ready, args=(args.host, args.port), daemon=True).start()
    return supervise(children, first_pause=args.restart_pause)


def announce_when_ready(host: str, port: int, *, wait: float = 120.0) -> bool:
    """Once the web server answers, says where it is, and the first superuser's password
    while it is still the generated one (accounts/first_password.py): printed by
    ``ensure_admin`` before the children start, it would scroll away under their output."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
        except OSError:
            time.sleep(0.5)
            continue
        lines = [f"Flowsite is ready: http://{host}:{port}/"]
        kept = Path(os.environ.get("FLOWSITE_DATA_DIR") or ROOT / "data") / "admin-password"
        with suppress(OSError):
            password = kept.read_text().strip()
            lines.append(f"First login: admin / {password}")
            lines.append(f"(kept in {kept} until admin changes the password)")
        rule = "=" * max(len(line) for line in lines)
        print("\n".join(["", rule, *lines, rule, ""]), flush=True)
        return True
    return False


if __name__ == "__main__":
    sys.exit(main())
