"""The database and Redis closed to Process tasks in the host's firewall.

A Process task no longer knows DATABASE_URL or REDIS_URL, but it shares the worker's
network: a PostgreSQL that trusts local connections, or a Redis without a password (it
carries django-q2's pickled jobs), would let it in all the same. A worker running as root
therefore adds, once, an iptables rule per address of those servers that rejects TCP
connections from the task ids (FLOWSITE_PROCESS_UIDS) to it. The rules match only those
ids, touch no chain of Docker's, and stay in place: the next worker finds them there.

Not covered: a server reached over a Unix socket (a local PostgreSQL's socket is open to
every user; make it ask for a password, in pg_hba.conf), and other hosts' services.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)


def server_addresses() -> list[tuple[str, int]]:
    """(IP address, port) of every TCP address of the database and Redis."""
    endpoints: list[tuple[str, int]] = []
    database = settings.DATABASES["default"]
    host = str(database.get("HOST") or "")
    if database["ENGINE"].endswith("postgresql") and host and not host.startswith("/"):
        endpoints.append((host, int(database.get("PORT") or 5432)))
    if settings.REDIS_URL and settings.REDIS_URL.startswith(("redis://", "rediss://")):
        parts = urlsplit(settings.REDIS_URL)
        if parts.hostname:
            endpoints.append((parts.hostname, parts.port or 6379))
    found: list[tuple[str, int]] = []
    for name, port in endpoints:
        try:
            infos = socket.getaddrinfo(name, port, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            logger.warning("Cannot resolve %s to close it to Process tasks: %s", name, exc)
            continue
        for info in infos:
            address = (str(info[4][0]), port)
            if address not in found:
                found.append(address)
    return found


def _rule(address: str, port: int) -> list[str]:
    ids = settings.FLOWSITE_PROCESS_UID_RANGE
    return [
        "OUTPUT",
        *("-p", "tcp", "-d", address, "--dport", str(port)),
        *("-m", "owner", "--uid-owner", f"{ids.start}-{ids.stop - 1}"),
        *("-j", "REJECT", "--reject-with", "tcp-reset"),
    ]


@lru_cache(maxsize=1)
def servers_close() -> list[str]:
    """Reject the task ids' connections to the database and Redis, once per worker
    process; returns the addresses closed ("ip:port")."""
    if not settings.FLOWSITE_PROCESS_FIREWALL:
        return []
    closed = []
    for address, port in server_addresses():
        tool = shutil.which("ip6tables" if ":" in address else "iptables")
        if tool is None:
            logger.warning("No iptables: %s:%s stays open to Process tasks", address, port)
            continue
        rule = _rule(address, port)
        present = subprocess.run([tool, "-w", "-C", *rule], capture_output=True, check=False)
        if present.returncode != 0:
            added = subprocess.run([tool, "-w", "-I", *rule], capture_output=True, check=False)
            if added.returncode != 0:
                logger.warning(
                    "Could not close %s:%s to Process tasks: %s",
                    address,
                    port,
                    added.stderr.decode(errors="replace").strip(),
                )
                continue
        closed.append(f"{address}:{port}")
    return closed
