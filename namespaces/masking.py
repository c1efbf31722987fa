"""Hiding secret values in log lines, as Kestra does: each occurrence becomes ``******``.

Decisions, so that no part of a secret ever reaches a stored or streamed line:

- Values are matched exactly (case and all), however short: a one-character secret hides
  that character everywhere. Ugly, but a weak secret must not leak because it is weak.
- A value made only of whitespace is not hidden: it would blank every line and hides
  nothing anyone could use.
- A log line never holds a newline, so a multi-line value (a PEM key) is also hidden
  line by line, each line with and without its surrounding whitespace.
- Overlapping or adjacent values are hidden together: every character that belongs to
  an occurrence of any value is covered, and each covered run becomes one ``******``.
  (Replacing values one by one, even longest first, can leave the tail of one value
  that overlaps another.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "******"
_COVERED_RUN = re.compile(rb"\x01+")


def _fragments(values: Iterable[str]) -> list[str]:
    """The strings to hide, longest first (the order only makes the search shorter)."""
    fragments: set[str] = set()
    for value in values:
        for part in (value, *value.splitlines()):
            fragments.update(text for text in (part, part.strip()) if text.strip())
    return sorted(fragments, key=len, reverse=True)


class SecretMasker:
    """Hides a growing set of values; cheap to apply when the line holds none of them."""

    def __init__(self, values: Iterable[str] = ()):
        self._values: set[str] = set()
        self._fragments: list[str] = []
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        self._values.update(value for value in values if isinstance(value, str))
        self._fragments = _fragments(self._values)

    def __bool__(self) -> bool:
        return bool(self._fragments)

    def mask(self, text: str) -> str:
        covered: bytearray | None = None
        for fragment in self._fragments:
            start = text.find(fragment)
            while start != -1:
                if covered is None:
                    covered = bytearray(len(text))
                covered[start : start + len(fragment)] = b"\x01" * len(fragment)
                start = text.find(fragment, start + 1)
        if covered is None:
            return text
        pieces, end = [], 0
        for run in _COVERED_RUN.finditer(covered):
            pieces += [text[end : run.start()], MASK]
            end = run.end()
        pieces.append(text[end:])
        return "".join(pieces)


def secret_mask(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of every value in ``values`` replaced by ``******``."""
    return SecretMasker(values).mask(text)
