"""What a Process task may reach of the worker's host.

A worker running as root runs each Process task under a user id of its own, taken from
FLOWSITE_PROCESS_UIDS for the length of the run and held by a lock file, with the group
of the same number and no other group. Two running tasks never share an id, so neither
can read the other's working directory or ``/proc/<pid>/environ`` (hidepid is not
available here, and that file is readable by its own user). The ids are no named
accounts: nothing has to be created on the host, and nothing outside the task's own
directories belongs to them. What the worker keeps to itself (DATA_DIR, the stored
files, an SQLite database) it closes to everyone else (``host_close``). An id is taken
only once every process still running under it is killed, and its task's processes are
killed when the task ends, so that nothing of one run waits for the next one.

A worker that is not root (a developer's laptop) cannot change user: the task runs as
the worker's user, and its log says that isolation is off.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import random
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import IO

from django.conf import settings

from .base import RunSpec, TaskError, task_env
from .firewall import servers_close

ISOLATION_OFF = (
    "Process runner isolation is off: the worker does not run as root, so this task runs "
    "as the worker's own user and can read what it can (its environment is still limited)"
)
# Variables of the worker that a task keeps; everything else of os.environ stays behind
# (the admin password, DATABASE_URL, FLOWSITE_* settings...).
PASSED_ON = ("LANG", "LC_ALL", "TZ")
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


def isolation_on() -> bool:
    return os.geteuid() == 0


class TaskUser:
    """The user id a run holds, or None when the worker's own user runs it."""

    def __init__(self, uid: int | None, lock: IO[str] | None = None):
        self.uid, self._lock = uid, lock
        self._swept = False  # nothing of the run can be left once its leftovers are killed

    def chown(self, *paths: Path) -> None:
        """Give ``paths``, and all they hold, to the task's user, private to it."""
        if self.uid is None:
            for path in paths:
                path.chmod(0o700)
            return
        for path in paths:
            for directory, dirnames, filenames in os.walk(path):
                for name in [*dirnames, *filenames]:
                    os.lchown(os.path.join(directory, name), self.uid, self.uid)
            os.chown(path, self.uid, self.uid)
            path.chmod(0o700)

    def stop_leftovers(self) -> None:
        """Kill what the run left running under its id (daemons, escaped children)."""
        if self.uid is not None:
            _kill_all(self.uid)
            self._swept = True

    def release(self) -> None:
        if not self._swept:
            self.stop_leftovers()
        if self._lock is not None:
            self._lock.truncate(0)  # released cleanly: the next holder need not sweep
            self._lock.close()  # the lock goes with it
            self._lock = None


def task_user_take() -> TaskUser:
    """A user id no other run holds, for one run (released by ``TaskUser.release``)."""
    if not isolation_on():
        return TaskUser(None)
    locks = Path(settings.DATA_DIR) / "process-uids"
    locks.mkdir(mode=0o700, exist_ok=True)
    ids = settings.FLOWSITE_PROCESS_UID_RANGE
    candidates = list(ids)
    random.shuffle(candidates)  # a freed id is not the next one taken
    for uid in candidates:
        if _named(uid):
            continue
        lock = open(locks / str(uid), "a+")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        lock.seek(0)
        if lock.read():  # its last holder died holding it: its task may still run
            _kill_all(uid)
        lock.write("held\n")
        lock.flush()
        return TaskUser(uid, lock)
    raise TaskError(
        f"All {len(candidates)} user ids of FLOWSITE_PROCESS_UIDS "
        f"({ids.start}-{ids.stop - 1}) are held by running Process tasks: widen the range"
    )


def _named(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def _kill_all(uid: int) -> None:
    # kill(-1) signals every process its caller may signal, itself excepted: as ``uid``,
    # exactly the processes running under it.
    subprocess.run(
        ["/bin/sh", "-c", "kill -9 -1 2>/dev/null; exit 0"],
        user=uid,
        group=uid,
        extra_groups=[],
        env={"PATH": DEFAULT_PATH},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


@lru_cache(maxsize=1)
def host_close() -> Path:
    """Close what the worker keeps to itself to other users, once per worker process, and
    prepare FLOWSITE_PROCESS_DIR, where tasks live; return it."""
    root = Path(settings.FLOWSITE_PROCESS_DIR)
    if not isolation_on():
        (root / "work").mkdir(parents=True, exist_ok=True)
        return root
    servers_close()
    for private in _private_paths():
        if private.exists() and private.stat().st_uid == os.geteuid():
            private.chmod(0o700 if private.is_dir() else 0o600)
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    root.chmod(0o755)
    (root / "work").mkdir(exist_ok=True)
    (root / "work").chmod(0o711)  # tasks reach their own directory but list none
    for parent in root.parents:
        if not parent.stat().st_mode & 0o001:
            raise TaskError(
                f"Process tasks cannot reach FLOWSITE_PROCESS_DIR ({root}): {parent} is closed "
                "to other users. Set FLOWSITE_PROCESS_DIR to a directory outside it."
            )
    data = Path(settings.DATA_DIR).resolve()
    if root.resolve() == data or data in root.resolve().parents:
        raise TaskError(
            f"FLOWSITE_PROCESS_DIR ({root}) lies inside FLOWSITE_DATA_DIR ({data}), which is "
            "closed to Process tasks: set it outside"
        )
    return root


def _private_paths() -> list[Path]:
    paths = [Path(settings.DATA_DIR)]
    location = settings.STORAGES.get("flowsite", {}).get("OPTIONS", {}).get("location")
    if location:
        paths.append(Path(location))
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and str(database["NAME"]) != ":memory:":
        name = str(database["NAME"])
        paths += [Path(name), Path(f"{name}-wal"), Path(f"{name}-shm")]
    return paths


def task_environment(
    spec: RunSpec, *, user: TaskUser, workdir: Path, tmpdir: Path, venv: Path, ca_file: str
) -> dict[str, str]:
    """The whole environment of a Process task: an allow-list, never os.environ."""
    env = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
    name = "flowsite-task" if user.uid is None else f"flowsite-{user.uid}"
    env.update(
        HOME=str(workdir),
        TMPDIR=str(tmpdir),
        USER=name,
        LOGNAME=name,
        # pip installs into the task's own space when the shared environment is not
        # writable (isolation on): never into a place the next task would run from.
        PYTHONUSERBASE=str(tmpdir / ".local"),
    )
    env.update(task_env(spec, ca_bundle_path=ca_file))
    env.update(
        WORKING_DIR=str(workdir),
        VIRTUAL_ENV=str(venv),
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH') or DEFAULT_PATH}",
    )
    return env
