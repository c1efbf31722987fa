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
"""

from __future__ import annotations

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
