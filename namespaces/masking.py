"""Hiding secret values in log lines, as Kestra does: each occurrence becomes ``******``.

Decisions, so that no part of a secret ever reaches a stored or streamed line:

- Values are matched exactly (case and all), however short: a one-character secret hides
  that character everywhere. Ugly, but a weak secret must not leak because it is weak.
- A value made only of whitespace is not hidden: it would blank every line and hides
  nothing anyone could use.
- A log line never holds a newline, so a multi-line value (a PEM key) is also hidden
  line by line, each line with and without its surrounding whitespace.
- Besides the value itself, the forms a script produces by accident are hidden (see
  ``forms``): base64 (also inside a longer base64 text), hex, URL- and JSON-escaped,
  upper- and lower-cased, reversed. Only for values of ``MIN_FORM_LENGTH`` characters or
  more: the forms of a shorter value are a few common characters ("YQ" is base64 of
  "a"), and hiding them would destroy the logs while protecting a value a guess finds.
- A text to hide split over two consecutive lines (``mask_next``) is looked for only when
  it has ``MIN_FORM_LENGTH`` characters or more, for the same reason.
- Overlapping or adjacent values are hidden together: every character that belongs to
  an occurrence of any value is covered, and each covered run becomes one ``******``.
- All forms of all values are searched with one compiled alternation, built when the
  values change: a line holding none of them costs one scan in C.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "******"
MIN_FORM_LENGTH = 4
_COVERED_RUN = re.compile(rb"\x01+")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")

Span = tuple[int, int]


def _base64_forms(raw: bytes) -> set[str]:
    """Base64 of ``raw`` alone (standard and URL-safe, padded or not), and the characters
    it always becomes inside a longer base64 text, at each of the three byte alignments."""
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode()
        forms |= {whole, whole.rstrip("=")}
        for offset in range(3):
            encoded = encode(bytes(offset) + raw).decode()
            # Character i holds bits 6i..6i+6; keep those made only of the value's bits.
            first, end = -(-8 * offset // 6), 8 * (offset + len(raw)) // 6
            forms.add(encoded[first:end])
    return forms


def _url_forms(value: str) -> set[str]:
    escaped = {quote(value), quote(value, safe=""), quote_plus(value), quote_plus(value, safe="")}
    lower = {_PERCENT_ESCAPE.sub(lambda match: match.group().lower(), text) for text in escaped}
    return escaped | lower


def forms(value: str) -> set[str]:
    """The texts that would show ``value`` in a log line: itself, and when it is long
    enough, what an encoding or a careless transformation makes of it."""
    if len(value) < MIN_FORM_LENGTH:
        return {value}
    raw = value.encode()
    found = {value, value.upper(), value.lower(), value[::-1], raw.hex(), raw.hex().upper()}
    found |= _base64_forms(raw) | _url_forms(value)
    escaped = {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    found |= escaped | {text.replace("/", "\\/") for text in escaped}  # as PHP escapes "/"
    return {text for text in found if text == value or len(text) >= MIN_FORM_LENGTH}


def _fragments(values: Iterable[str]) -> set[str]:
    fragments: set[str] = set()
    for value in values:
        for part in (value, *value.splitlines()):
            fragments.update(text for text in (part, part.strip()) if text.strip())
    return fragments


def _covered_runs(text: str, spans: list[Span]) -> str:
    covered = bytearray(len(text))
    for start, end in spans:
        covered[start:end] = b"\x01" * (end - start)
    pieces, last = [], 0
    for run in _COVERED_RUN.finditer(covered):
        pieces += [text[last : run.start()], MASK]
        last = run.end()
    pieces.append(text[last:])
    return "".join(pieces)


_Trie = dict[str, "_Trie"]
_END = ""  # the key marking that a text ends at this node (no character is empty)


def _trie_pattern(node: _Trie) -> str:
    """A regular expression matching the texts of ``node``'s trie, longest first."""
    chain = ""
    while len(node) == 1 and _END not in node:  # a run without branches: no group needed
        ((char, node),) = node.items()
        chain += re.escape(char)
    branches = [re.escape(char) + _trie_pattern(child) for char, child in node.items() if char]
    if not branches:
        return chain
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    # Greedy: the longer text is tried first, the shorter one where it stops.
    return chain + (f"(?:{body})?" if _END in node else body)


def _alternation(texts: list[str]) -> re.Pattern[str]:
    """One expression for all ``texts``, shaped as their trie: at each position the
    engine follows one branch per character instead of trying every text in turn, so
    hundreds of forms cost about what one does (an Aho-Corasick automaton in spirit)."""
    trie: _Trie = {}
    for text in texts:
        node = trie
        for char in text:
            node = node.setdefault(char, {})
        node[_END] = {}
    try:
        return re.compile(_trie_pattern(trie))
    except RecursionError:  # texts nested in each other hundreds deep: the plain list
        return re.compile("|".join(map(re.escape, texts)))


class SecretMasker:
    """Hides a growing set of values; cheap to apply when the line holds none of them."""

    def __init__(self, values: Iterable[str] = ()):
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._longest = 0
        self._texts: list[str] = []
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        new = {value for value in values if isinstance(value, str)} - self._values
        if not new:
            return
        self._values |= new
        texts = set().union(*(forms(fragment) for fragment in _fragments(self._values)))
        if not texts:
            return
        self._texts = sorted(texts, key=len, reverse=True)
        self._pattern = _alternation(self._texts)
        self._longest = len(self._texts[0])

    def __bool__(self) -> bool:
        return self._pattern is not None

    def spans(self, text: str) -> list[Span]:
        """Where the texts to hide are in ``text``, overlapping ones included."""
        if self._pattern is None:
            return []
        found: list[Span] = []
        match = self._pattern.search(text)
        while match is not None:
            found.append(match.span())
            # From the next character, not the match's end: another value may overlap it.
            match = self._pattern.search(text, match.start() + 1)
        return found

    def mask(self, text: str, extra: Iterable[Span] = ()) -> str:
        """``text`` with each run of hidden characters (and of ``extra`` spans) as ``******``."""
        spans = self.spans(text) + list(extra)
        return _covered_runs(text, spans) if spans else text

    def mask_next(self, before: str, text: str) -> tuple[int | None, str]:
        """Mask ``text``, the line after ``before`` in one stream, also where the end of
        ``before`` and the start of ``text`` together make a text to hide. Returns where
        in ``before`` such a split text starts (None when there is none), and the masked
        ``text``. One search covers both: the tail of ``before`` is searched with ``text``."""
        tail = before[max(len(before) - self._longest + 1, 0) :] if self._longest > 1 else ""
        cut = len(tail)
        starts: list[int] = []
        own: list[Span] = []
        for start, end in self.spans(tail + text):
            if end <= cut:  # within the previous line: hidden there already
                continue
            if start < cut:
                if end - start < MIN_FORM_LENGTH:  # a short value is not looked for split
                    continue
                starts.append(start)
            own.append((max(start - cut, 0), end - cut))
        masked = _covered_runs(text, own) if own else text
        return (len(before) - cut + min(starts) if starts else None), masked

    def may_continue(self, text: str) -> bool:
        """Whether the end of ``text`` could be the first part of a text to hide split
        over two lines (whether the next line should be awaited before showing it)."""
        for form in self._texts:
            if len(form) < MIN_FORM_LENGTH:
                break  # longest first: only shorter ones follow
            tail = text[-(len(form) - 1) :]
            position = tail.find(form[0])
            while position != -1:
                if form.startswith(tail[position:]):
                    return True
                position = tail.find(form[0], position + 1)
        return False


def secret_mask(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of every value in ``values`` replaced by ``******``."""
    return SecretMasker(values).mask(text)
