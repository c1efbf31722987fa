"""What Linux's /proc tells about a process tree: its members, their memory and CPU time.

No psutil: /proc/<pid>/stat and /proc/<pid>/smaps_rollup are all it takes, and reading
them directly costs the measured processes nothing.
"""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    cpu: float  # seconds in user and kernel mode, this process only (not reaped children)
    command: str


def proc_read(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:  # it ended meanwhile
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    command = " ".join(a.decode(errors="replace") for a in argv if a)
    return Proc(pid=pid, ppid=int(fields[1]), cpu=(utime + stime) / TICKS, command=command)


def tree(root: int) -> list[Proc]:
    """``root`` and all its descendants alive now."""
    procs = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (proc := proc_read(int(entry.name))) is not None:
            procs[proc.pid] = proc
    children: dict[int, list[int]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            found.append(procs[pid])
            todo += children.get(pid, [])
    return found


def pss_kib(pid: int) -> int:
    """Proportional set size: pages shared with other processes count by their share."""
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pids: list[int]) -> float:
    """CPU time of these processes so far; one that ended counts nothing."""
    return sum(p.cpu for pid in pids if (p := proc_read(pid)) is not None)


def roles(root: int) -> dict[int, tuple[str, Proc]]:
    """The Flowsite processes of the tree under ``root`` (a supervisor), each with its role:
    supervisor, web, workers (the django-q2 cluster and what it forked), clock. The
    processes a task started are left out: they are the task's cost, not Flowsite's."""
    found = {}
    for proc in tree(root):
        if proc.pid == root:
            found[proc.pid] = ("supervisor", proc)
        elif "flowsite.asgi:application" in proc.command:  # daphne, flowsite.web
            found[proc.pid] = ("web", proc)
        elif "manage.py clock" in proc.command:
            found[proc.pid] = ("clock", proc)
        elif "manage.py workers" in proc.command or "manage.py qcluster" in proc.command:
            found[proc.pid] = ("workers", proc)
    return found
