"""Counts the database transactions of a Flowsite process, for ``make bench`` alone.

Off unless FLOWSITE_COUNT_TRANSACTIONS names a directory (settings.py then calls
``count_transactions_in``). Two kinds are counted: a statement run outside any atomic
block (in autocommit mode it is a transaction of its own) and an atomic block that
committed. Each process keeps its two counters in a 16-byte file of its own in that
directory, mapped into memory: counting costs no system call, and a process that is
killed outright still leaves its totals behind. ``totals`` adds the files up.

SQLite has no server-side counter of transactions; on PostgreSQL the benchmark checks
these counts against pg_stat_database.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db.backends.signals import connection_created

_LAYOUT = struct.Struct("<QQ")  # autocommit statements, committed atomic blocks
_lock = threading.Lock()  # web and clock threads share a process's counters
_directory: Path | None = None
_maps: dict[int, mmap.mmap] = {}  # by pid: a forked child must not write its parent's file


def count_transactions_in(directory: str) -> None:
    global _directory
    _directory = Path(directory)
    _directory.mkdir(parents=True, exist_ok=True)
    connection_created.connect(_on_connection, dispatch_uid="flowsite-count-transactions")


def totals(directory: Path) -> dict[int, tuple[int, int]]:
    """Per process id: (autocommit statements, committed atomic blocks)."""
    found = {}
    for path in directory.glob("*.count"):
        data = path.read_bytes()
        if len(data) == _LAYOUT.size:
            found[int(path.stem)] = _LAYOUT.unpack(data)
    return found


def _on_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    # The signal comes again on every reconnection of the same connection object.
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


def _count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    connection = context["connection"]
    if connection.in_atomic_block:
        # Counted once, when the outermost block commits; a rollback drops the callback.
        if not any(func is _committed for _, func, _ in connection.run_on_commit):
            connection.on_commit(_committed, robust=True)
    elif connection.get_autocommit() and not sql.startswith("BEGIN"):
        _add(0)  # SQLite's BEGIN of an atomic block comes while autocommit is still on
    return execute(sql, params, many, context)


def _committed() -> None:
    _add(1)


def _add(slot: int) -> None:
    with _lock:
        counters = _maps.get(os.getpid()) or _open()
        offset = slot * 8
        (value,) = struct.unpack_from("<Q", counters, offset)
        struct.pack_into("<Q", counters, offset, value + 1)


def _open() -> mmap.mmap:
    assert _directory is not None
    path = _directory / f"{os.getpid()}.count"
    with open(path, "w+b") as file:
        file.truncate(_LAYOUT.size)
        counters = mmap.mmap(file.fileno(), _LAYOUT.size)
    _maps[os.getpid()] = counters
    return counters
