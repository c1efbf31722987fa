"""A container's output read from its attach socket in large reads.

Docker multiplexes stdout and stderr into frames: an 8-byte header (the stream, then the
payload's size) and the payload. A script writing line by line (PYTHONUNBUFFERED) makes a
frame of each line, and docker-py's ``demux`` reads each frame with two system calls and
hands it on alone: at 200,000 lines that cost the task most of its run. Here the socket
is read 64 KiB at a time, the frames are cut in memory, and consecutive frames of one
stream are handed on joined, in their order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from docker.utils.socket import read

from .base import STDERR, STDOUT

READ_SIZE = 65536
HEADER = 8
_STREAMS = {1: STDOUT, 2: STDERR}


def socket_timeout_disable(sock: Any) -> None:
    """Wait for output as long as the task runs: a quiet task is no lost engine. As
    docker-py does for its own streams (a socket or the one it wraps)."""
    candidates: list[Any] = [sock, getattr(sock, "_sock", None)]
    for candidate in candidates:
        if hasattr(candidate, "settimeout") and candidate.gettimeout() not in (None, 0.0):
            candidate.settimeout(None)


def demuxed_chunks(sock: Any) -> Iterator[tuple[str, bytes]]:
    """(stream, bytes) from a multiplexed attach socket until it ends."""
    buffer = b""
    while True:
        data = read(sock, READ_SIZE)
        if data is None:  # interrupted: read again
            continue
        if not data:
            break
        buffer = buffer + data if buffer else data
        chunks, used = _frames_cut(buffer)
        buffer = buffer[used:]
        yield from chunks
    if len(buffer) > HEADER:  # a frame cut short by the engine: what came is still output
        yield _STREAMS.get(buffer[0], STDOUT), buffer[HEADER:]


def _frames_cut(buffer: bytes) -> tuple[list[tuple[str, bytes]], int]:
    """The complete frames at the start of ``buffer``, consecutive ones of a stream
    joined, and how many bytes they took."""
    chunks: list[tuple[str, bytes]] = []
    parts: list[bytes] = []
    current = ""
    position, size = 0, len(buffer)
    while size - position >= HEADER:
        length = int.from_bytes(buffer[position + 4 : position + HEADER], "big")
        end = position + HEADER + length
        if end > size:
            break
        stream = _STREAMS.get(buffer[position], STDOUT)
        if stream != current and parts:
            chunks.append((current, b"".join(parts)))
            parts = []
        current = stream
        parts.append(buffer[position + HEADER : end])
        position = end
    if parts:
        chunks.append((current, b"".join(parts)))
    return chunks, position
