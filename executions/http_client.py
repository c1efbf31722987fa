"""The HTTP client of the http.Request and http.Download tasks, which run in the worker.

It trusts what the worker's tasks trust (the host's CA bundle plus FLOWSITE_EXTRA_CA_CERTS,
so a TLS-inspecting proxy's certificate is accepted) and goes through the proxy the
worker's environment names (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). It takes nothing else
from the worker: no ``.netrc`` credentials, no REQUESTS_CA_BUNDLE of its own.

What a flow may reach with it: whatever the worker's network reaches (Kestra flows call
internal APIs all the time), except the server's own services, which a hostile flow
could otherwise talk to with the worker's network position: the database and Redis
(Redis carries django-q2's pickled jobs), the Docker engine when it listens on TCP (its
API is HTTP, and it is root on the host), and the cloud metadata address, which hands
out the machine's credentials. The check is made on the address each connection
actually reached, after DNS and after every redirect, so a name that resolves there or a
redirect that points there is refused as well. Flowsite's own API is not closed: the
worker holds no credentials for it, so a task reaches it as any anonymous client would.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .runners.base import TaskError, ca_bundle
from .runners.engine import engine_address
from .runners.firewall import server_addresses

# Any port: the instance metadata services of the clouds (AWS, GCP, Azure, ...).
METADATA_ADDRESSES = ("169.254.169.254", "fd00:ec2::254")


@lru_cache(maxsize=1)
def closed_endpoints() -> frozenset[tuple[str, int | None]]:
    """(address, port or None for every port) that HTTP tasks may not connect to."""
    closed: set[tuple[str, int | None]] = set(server_addresses())
    engine = urlsplit(engine_address().replace("tcp://", "http://", 1))
    if engine.scheme in ("http", "https") and engine.hostname:
        port = engine.port or (2376 if engine.scheme == "https" else 2375)
        try:
            for info in socket.getaddrinfo(engine.hostname, port, proto=socket.IPPROTO_TCP):
                closed.add((str(info[4][0]), port))
        except OSError:
            pass
    closed.update((address, None) for address in METADATA_ADDRESSES)
    return frozenset((_normal(address), port) for address, port in closed)


def _normal(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def peer_require(address: str, port: int) -> None:
    """TaskError when an HTTP task's connection reached one of the closed endpoints. A
    local service is the same whichever local address reaches it (127.0.0.2, ::1, the
    host's own network address)."""
    reached = _normal(address)
    for closed, closed_port in closed_endpoints():
        if closed_port is not None and closed_port != port:
            continue
        if reached == closed or (_is_local(closed) and _is_local(reached)):
            raise TaskError(
                f"HTTP tasks may not connect to {address} port {port}: it is one of "
                "Flowsite's own services (its database, Redis, Docker engine) or the cloud "
                "metadata address"
            )


@lru_cache(maxsize=256)
def _is_local(address: str) -> bool:
    """Whether ``address`` is one of this host's own: only those can be bound to."""
    ip = ipaddress.ip_address(address)
    if ip.is_loopback:
        return True
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
    except OSError:
        return False
    return True


class _Checked:
    """Checks the address a new connection reached before anything is sent on it."""

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        peer = sock.getpeername()
        try:
            peer_require(str(peer[0]), int(peer[1]))
        except TaskError:
            sock.close()
            raise
        return sock


class _CheckedHTTPConnection(_Checked, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_Checked, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


_CHECKED_POOLS = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _CHECKED_POOLS

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> urllib3.ProxyManager:
        manager: urllib3.ProxyManager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = _CHECKED_POOLS
        return manager


class TaskSession(requests.Session):
    """A requests session for one HTTP task."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # no .netrc and no CA bundle of the worker's environment
        self.verify = ca_file()
        adapter = _CheckedAdapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        # The proxy the worker's environment names, NO_PROXY honoured; nothing else of it.
        merged = {**get_environ_proxies(str(url)), **(proxies or {})}
        return super().merge_environment_settings(url, merged, stream, verify, cert)


@lru_cache(maxsize=1)
def ca_file() -> str:
    """The CA bundle tasks trust, as a file requests can read."""
    path = Path(settings.DATA_DIR) / "http-ca-certificates.crt"
    data = ca_bundle()
    if not path.exists() or path.read_bytes() != data:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
    return str(path)
