"""A throwaway Flowsite for the benchmark: its data dir, its database, its queue."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "bench"
BENCH_USER = "flowsite-bench"


class BenchError(Exception):
    pass


@dataclass
class Setup:
    data_dir: Path
    keep: bool
    team: bool
    label: str = ""

    @property
    def own_transactions(self) -> Path:
        """Where this process counts its own transactions (flowsite/txcount.py)."""
        return self.data_dir / "bench-transactions"


def setup_environment(keep: bool) -> Setup:
    """Point this process (and the stack it starts) at a throwaway Flowsite."""
    data_dir = Path(tempfile.mkdtemp(prefix="flowsite-bench-"))
    team = bool(os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL"))
    setup = Setup(data_dir=data_dir, keep=keep, team=team)
    os.environ["FLOWSITE_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "flowsite.settings"
    # The benchmark's namespace is allowed the Process runner, as a superuser would allow
    # it; its processes live beside the data dir (FLOWSITE_PROCESS_DIR's default) and go
    # with it.
    os.environ["FLOWSITE_PROCESS_NAMESPACES"] = NAMESPACE
    # This process's own queries (its polling) are counted, to be told apart from the
    # stack's in PostgreSQL's totals; the stack counts into a directory of its own.
    os.environ["FLOWSITE_COUNT_TRANSACTIONS"] = str(setup.own_transactions)
    # Never share a queue or channel prefix with a real cluster by accident.
    os.environ.setdefault("FLOWSITE_QUEUE_NAME", "flowsite-bench")
    if team:
        os.environ.setdefault("FLOWSITE_REDIS_PREFIX", "flowsite-bench")
    return setup


def postgres_params(url: str) -> tuple[str, dict[str, Any]]:
    """The database name of a PostgreSQL URL, and how to connect to its server."""
    import dj_database_url

    config = dj_database_url.parse(url)
    params = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    return config["NAME"], params


def postgres_database_ensure(url: str) -> None:
    import psycopg
    from psycopg import sql

    name, params = postgres_params(url)
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def django_ready() -> None:
    """Set Django up, migrate, and empty the queue of what an interrupted run left."""
    import django
    from django.core.management import call_command

    if url := postgres_url():
        postgres_database_ensure(url)
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from django_q.brokers import get_broker

    get_broker().purge_queue()


def config_label() -> str:
    from django.conf import settings
    from django.db import connection

    vendor = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(
        connection.vendor, connection.vendor
    )
    cluster = settings.Q_CLUSTER
    broker = "Redis broker" if "redis" in cluster else "ORM broker"
    layer = str(settings.CHANNEL_LAYERS["default"]["BACKEND"]).rsplit(".", 1)[-1]
    kind = "team" if os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL") else "embedded"
    poll = f", poll {cluster['poll']} s" if "poll" in cluster else ""
    return (
        f"{kind}: {vendor} + django-q2 {broker} (queue {cluster['name']!r}, "
        f"{cluster['workers']} workers{poll}), {layer}"
    )


def bench_data_delete() -> None:
    """On a shared database, leave nothing of the benchmark behind."""
    from django.contrib.auth import get_user_model

    from executions.models import Execution
    from flows.models import Flow

    Execution.objects.filter(namespace=NAMESPACE).delete()
    Flow.objects.filter(namespace=NAMESPACE).delete()
    get_user_model().objects.filter(username=BENCH_USER).delete()


@contextmanager
def terminated_cleanly() -> Iterator[None]:
    """SIGTERM ends the benchmark through its finally blocks, like Ctrl-C."""

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
