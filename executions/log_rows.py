"""Storing a batch of one task's log lines as fast as each database takes them.

``bulk_create`` builds a model instance per line and Django prepares every value of it:
at a million lines that was most of a task's run time. Here a line is a plain list of
its column values, its timestamp already in the database's form, passed as it is to
PostgreSQL's COPY or to SQLite's executemany of one prepared INSERT, one transaction a
batch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import connections, router, transaction

from .models import LogLine

# The values of a row in the order of COLUMNS; MESSAGE is the one masking rewrites.
Row = list[Any]
COLUMNS = (
    "execution_id",
    "task_run_id",
    "task_id",
    "attempt",
    "stream",
    "level",
    "timestamp",
    "message",
)
STREAM, MESSAGE = COLUMNS.index("stream"), COLUMNS.index("message")


def log_stamp_adapter() -> Callable[[datetime], object]:
    """What turns a timestamp into the value the database takes for it: psycopg adapts
    datetimes itself; SQLite's backend stores the text Django's field would."""
    connection = connections[router.db_for_write(LogLine)]
    if connection.vendor == "postgresql":
        return lambda stamp: stamp
    return connection.ops.adapt_datetimefield_value


def log_rows_insert(rows: list[Row]) -> None:
    """Store ``rows`` in this order (their ids increase with it)."""
    alias = router.db_for_write(LogLine)
    connection = connections[alias]
    table = connection.ops.quote_name(LogLine._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in COLUMNS)
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            values = ", ".join(["%s"] * len(COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({values})", rows)
