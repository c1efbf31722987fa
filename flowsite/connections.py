"""How many database connections one Flowsite host holds at most, so that a team's
PostgreSQL (100 connections by default) is never asked for more than it gives.

Every long-lived thread that queries keeps one connection; nothing opens one per request
or per job. On one host running ``make run`` (or ``manage.py serve``):

- the web server (daphne): one per request thread (FLOWSITE_WEB_THREADS), plus the one
  thread that runs the websockets' queries, which closes its connection after each;
- each django-q2 worker process (FLOWSITE_WORKERS): its own, plus one for the heartbeat
  thread while it holds a task run longer than a heartbeat (closed when the task ends);
- django-q2's sentinel (the scheduler it runs once a minute), its monitor (stores failed
  jobs), with the ORM broker its pusher, and the clock thread of ``manage.py workers``.

The wake-up loop of each process (executions/live.py) and the log readers of the runners
never query. tests/test_load.py counts a real stack's connections under load against
this sum.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from flowsite.env import env_float, env_int

WEBSOCKET_THREADS = 1
PER_WORKER = 2  # the worker process and its heartbeat thread
CLUSTER_FIXED = 3  # the sentinel, the monitor, the clock
ORM_PUSHER = 1  # only with django-q2's ORM broker (no Redis)


def connections_needed(*, web_threads: int, workers: int, orm_broker: bool) -> int:
    """The most connections a host of the web server and the workers may hold at once."""
    return (
        web_threads
        + WEBSOCKET_THREADS
        + workers * PER_WORKER
        + CLUSTER_FIXED
        + (ORM_PUSHER if orm_broker else 0)
    )


@dataclass(frozen=True)
class Budget:
    web_threads: int
    web_queue_seconds: float
    allowed: int
    needed: int


def connections_budget(*, workers: int, postgres: bool, orm_broker: bool) -> Budget:
    """Read the web server's threads and the connection limit from the environment;
    ImproperlyConfigured when they, with ``workers``, could need more than PostgreSQL is
    allowed to give this host (SQLite has no such limit)."""
    web_threads = env_int("FLOWSITE_WEB_THREADS", 8)
    # A request that waited this long for one of them answers 503 with Retry-After
    # instead of piling up (flowsite/asgi.py).
    web_queue_seconds = env_float("FLOWSITE_WEB_QUEUE_SECONDS", 10.0)
    for name, count in [("FLOWSITE_WEB_THREADS", web_threads), ("FLOWSITE_WORKERS", workers)]:
        if count < 1:
            raise ImproperlyConfigured(f"{name}={count} must be at least 1")
    if web_queue_seconds <= 0:
        raise ImproperlyConfigured(
            f"FLOWSITE_WEB_QUEUE_SECONDS={web_queue_seconds} must be more than 0"
        )
    # Well under PostgreSQL's max_connections (100 by default), which other hosts and tools
    # share: refused at start rather than found under load as "too many clients".
    allowed = env_int("FLOWSITE_DATABASE_CONNECTIONS", 50)
    needed = connections_needed(web_threads=web_threads, workers=workers, orm_broker=orm_broker)
    if postgres and needed > allowed:
        raise ImproperlyConfigured(
            f"FLOWSITE_WEB_THREADS={web_threads} and FLOWSITE_WORKERS={workers} need up to "
            f"{needed} database connections (one per web thread and two per worker, and a few "
            f"more), more than FLOWSITE_DATABASE_CONNECTIONS={allowed}: lower them, or raise "
            "it if PostgreSQL's max_connections allows"
        )
    return Budget(web_threads, web_queue_seconds, allowed, needed)
