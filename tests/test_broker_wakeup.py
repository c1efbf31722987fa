"""Enqueueing on the embedded broker wakes the machine's pushers instead of waiting for
their poll (flowsite/broker.py)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from flowsite.broker import _bind, pushers_wake


def test_a_wake_up_reaches_every_listening_pusher(tmp_path: Path) -> None:
    first, second = _bind(tmp_path / "1"), _bind(tmp_path / "2")
    assert first is not None and second is not None
    pushers_wake(tmp_path)
    assert first.recv(16) == b"!"
    assert second.recv(16) == b"!"
    first.close()
    second.close()


def test_the_socket_of_a_pusher_that_died_is_removed(tmp_path: Path) -> None:
    dead = tmp_path / str(os.getpid())
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(dead))
    listener.close()  # the file stays behind, as after a SIGKILL
    pushers_wake(tmp_path)
    assert not dead.exists()


def test_no_pusher_ever_listening_is_not_an_error(tmp_path: Path) -> None:
    pushers_wake(tmp_path / "nobody")
