"""A runner's output stream cut into lines."""

from __future__ import annotations


class LineSplitter:
    """Bytes of one stream in, its complete lines out as text; a partial line waits."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[str]:
        data = self._pending + chunk if self._pending else chunk
        end = data.rfind(b"\n")
        if end == -1:
            self._pending = data
            return []
        self._pending = data[end + 1 :]
        # Decoded whole: a newline never belongs to a multi-byte character, so an invalid
        # sequence is replaced where it would have been line by line.
        lines = data[:end].decode("utf-8", errors="replace").split("\n")
        if b"\r" in data:
            return [line.rstrip("\r") for line in lines]
        return lines

    def rest(self) -> list[str]:
        rest, self._pending = self._pending, b""
        return [_decode(rest)] if rest else []


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r")
