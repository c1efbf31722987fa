"""A small real HTTP server for the HTTP task tests, run in a thread of the test process;
the worker process reaches it over the loopback."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ORDERS_CSV = b"id,amount\n1,10\n2,25\n3,7\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the test's output stays readable

    def _send(self, code: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if path.startswith("http://"):  # asked as a forward proxy
            self._send(200, f"proxied {self.path}".encode(), "text/plain")
        elif path == "/status.json":
            body = json.dumps({"state": "green", "orders": 3}).encode()
            self._send(200, body, "application/json", X_Served_By="test-server")
        elif path == "/echo":
            echoed = {
                "method": self.command,
                "path": self.path,
                "contentType": self.headers.get("Content-Type"),
                "authorization": self.headers.get("Authorization"),
                "custom": self.headers.get("X-Custom"),
                "body": received.decode("utf-8", errors="replace"),
            }
            self._send(200, json.dumps(echoed).encode(), "application/json")
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[-1])
            self._send(code, f"answered {code}".encode(), "text/plain")
        elif path == "/moved":
            self._send(302, b"", "text/plain", Location="/status.json")
        elif path == "/slow":
            time.sleep(3)
            self._send(200, b"late", "text/plain")
        elif path == "/orders.csv":
            self._send(200, ORDERS_CSV, "text/csv")
        elif path == "/export":
            disposition = 'attachment; filename="monthly report.csv"'
            self._send(200, ORDERS_CSV, "text/csv", Content_Disposition=disposition)
        elif path == "/unicode":
            self._send(200, "héllo ✓".encode(), "text/plain")
        elif path == "/latin":
            self._send(200, "héllo".encode("latin-1"), "text/plain; charset=ISO-8859-1")
        elif path == "/empty":
            self._send(200, b"", "text/plain")
        elif path == "/binary":
            self._send(200, bytes(range(256)) * 4, "application/octet-stream")
        elif path.startswith("/to/"):  # a redirect to wherever the test says
            self._send(302, b"", "text/plain", Location=path[len("/to/") :])
        else:
            self._send(404, b"no such page", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _answer


@contextmanager
def http_server(
    certificate: tuple[Path, Path] | None = None, *, host: str = "127.0.0.1"
) -> Iterator[str]:
    """Serve ``Handler`` on a free port of ``host``; yields its loopback base URL."""
    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    scheme = "http"
    if certificate is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(certificate[0]), str(certificate[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
