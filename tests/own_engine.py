"""A Docker engine of a test's own: a second dockerd with its own socket, data root and
exec root, in a network namespace of its own (a dockerd started with --bridge none
deletes any docker0 it sees: never the machine's). Its containers have no network but
their loopback; the machine's engine is only read from (for images).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import skip_or_fail, wait_until


@contextlib.contextmanager
def own_engine_running(image: str, *, tools: tuple[str, ...]) -> Iterator[OwnEngine]:
    """An OwnEngine started with ``image`` loaded, stopped on leaving; a machine without
    root or ``tools`` skips (fails in CI)."""
    if os.geteuid() != 0 or not all(map(shutil.which, tools)):
        skip_or_fail(f"A Docker engine of the test's own needs root, {', '.join(tools)}")
    engine = OwnEngine()
    try:
        engine.start()
        engine.load(image)
        yield engine
    finally:
        engine.stop()


class OwnEngine:
    """A dockerd of the test's own, which it may kill and start again."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="fs-dk-", dir="/tmp"))  # short: a socket path
        self.address = f"unix://{self.root}/docker.sock"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # The previous daemon and its containerd are known to be gone (killed): their pid
        # files, left by a kill, would stop the new ones (a pid may live on as a zombie).
        (self.root / "docker.pid").unlink(missing_ok=True)
        (self.root / "x" / "containerd" / "containerd.pid").unlink(missing_ok=True)
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - the daemon's, kept open
        self.process = subprocess.Popen(
            [
                *("unshare", "--net", "dockerd", "--host", self.address),
                *("--data-root", f"{self.root}/data", "--exec-root", f"{self.root}/x"),
                *("--pidfile", f"{self.root}/docker.pid", "--bridge", "none"),
                *("--iptables=false", "--ip6tables=false"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(self.answers, timeout=30, what="the test's own dockerd")
        except AssertionError:
            raise AssertionError((self.root / "dockerd.log").read_text()[-2000:]) from None

    def load(self, image: str) -> None:
        """``image``, copied from the machine's engine."""
        saved = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "-H", self.address, "load"], stdin=saved.stdout, check=True, timeout=120
        )
        assert saved.wait(60) == 0

    @property
    def network_namespace(self) -> str:
        """Its network namespace, for nsenter --net (unshare execs dockerd: same pid)."""
        assert self.process is not None
        return f"/proc/{self.process.pid}/ns/net"

    def answers(self) -> bool:
        return self.docker("version", check=False).returncode == 0

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["docker", "-H", self.address, *args], capture_output=True, check=check, timeout=60
        )

    def kill(self) -> None:
        """SIGKILL the daemon, as a crash of its host would: its containerd goes with it,
        and so do its shims and their containers (left alive, a restarted engine waits
        on them)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)  # unshare execs dockerd: same pid
        self.process.wait()
        ours = [pid for pid, cmdline in _processes().items() if str(self.root) in cmdline]
        children = [pid for pid, parent in _parents().items() if parent in ours]
        for pid in children + ours:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(subprocess.SubprocessError):
                ids = self.docker("ps", "-aq").stdout.decode().split()
                if ids:
                    self.docker("rm", "-f", *ids, check=False)
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        mounts = Path("/proc/mounts").read_text().splitlines()
        for mount in sorted((line.split()[1] for line in mounts), reverse=True):
            if mount.startswith(f"{self.root}/"):
                subprocess.run(["umount", "-l", mount], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _processes() -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
    return found


def _parents() -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                found[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    return found
