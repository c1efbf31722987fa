"""An execution's log lines read in keyset chunks (``id > last`` in id order, a few
thousand at a time) and written out as they are read: a JSON array of Kestra's log
entries, or the text of a download. However many lines there are, the server holds one
chunk at a time.

Each chunk is a query of its own, fetched whole before it is written: nothing holds a
cursor open between two chunks, so the web server may read the next chunk on any of its
threads (flowsite/asgi.py). Lines written while a download goes on, with higher ids,
are part of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import chain
from typing import Any

from django.db.models import QuerySet

from .api_json import log_entry_json, log_line_text
from .models import Execution, LogLine

CHUNK = 5000
COLUMNS = ("id", "task_id", "task_run_id", "attempt", "timestamp", "level", "stream", "message")


def log_rows(lines: QuerySet[LogLine], *, after_id: int = 0, limit: int) -> list[Any]:
    """Up to ``limit`` of ``lines`` after the line ``after_id``, in id order, as named
    rows that ``log_entry_json`` and ``log_line_text`` read like lines."""
    rows = lines.filter(id__gt=after_id).order_by("id").values_list(*COLUMNS, named=True)
    return list(rows[:limit])


def log_chunks(lines: QuerySet[LogLine], *, after_id: int = 0) -> Iterator[list[Any]]:
    """All of ``lines`` after ``after_id``, CHUNK rows at a time."""
    while True:
        rows = log_rows(lines, after_id=after_id, limit=CHUNK)
        if rows:
            yield rows
        if len(rows) < CHUNK:
            return
        after_id = rows[-1].id


def json_array_parts(
    first: list[Any], rest: Iterator[list[Any]], execution: Execution
) -> Iterator[bytes]:
    """The JSON array of the entries of ``first`` and then of each chunk of ``rest``."""
    yield b"["
    separator = b""
    for rows in chain([first], rest):
        if not rows:
            continue
        entries = json.dumps([log_entry_json(row, execution) for row in rows])
        yield separator + entries[1:-1].encode()  # the entries without their brackets
        separator = b","
    yield b"]"


def text_parts(chunks: Iterator[list[Any]]) -> Iterator[bytes]:
    """The lines of each chunk as a downloaded log's text, one chunk per part."""
    for rows in chunks:
        yield "".join(log_line_text(row) + "\n" for row in rows).encode()
