"""The web server: ``python -m flowsite.web``, daphne with the body of a request left to
Django. It takes daphne's own arguments (``-b``, ``-p``, the application path).

Twisted's ``http.Request`` parses a POSTed ``multipart/form-data`` body itself, into
``request.args`` that daphne never reads (it hands the raw body to the ASGI application),
and answers a bare 400 and hangs up when its parser (the ``email`` package) finds no part.
The empty form a client sends to start an execution without inputs is exactly that:
urllib3 (under OpenAPI-generated clients) encodes no fields as the closing boundary
alone. Twisted switches its parsing off per request (``parsePOSTFormSubmission``); daphne
builds its requests in its HTTP factory, made inside ``Server.run``, so the server below
hands over a factory whose requests are built with that switch off. Django then parses
every body once, and answers a malformed one with a message instead of a dropped
connection. pyproject.toml pins daphne and Twisted to the releases this was checked
against (tests/api/test_multipart_over_http.py).
"""

from __future__ import annotations

import sys
from functools import partial
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server


class BodyLeftToDjangoFactory(HTTPFactory):
    """daphne's HTTP factory, whose requests leave a POSTed form unparsed."""

    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = partial(WebRequest, parsePOSTFormSubmission=False)
        return protocol


class FlowsiteServer(Server):
    """daphne's server with the factory above: ``run()`` sets ``http_factory`` to daphne's
    own, and this property keeps ours in its place."""

    @property
    def http_factory(self) -> BodyLeftToDjangoFactory:
        return self._body_left_to_django

    @http_factory.setter
    def http_factory(self, factory: HTTPFactory) -> None:
        self._body_left_to_django = BodyLeftToDjangoFactory(factory.server)


class FlowsiteCommandLine(CommandLineInterface):
    server_class = FlowsiteServer


def main(argv: list[str] | None = None) -> None:
    FlowsiteCommandLine().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
