"""Regular expressions written by users (an input's ``validator``, ``replace(...,
regexp=true)``), run with a time limit.

Python's ``re`` cannot be stopped: ``(a+)+$`` against forty letters backtracks for
minutes and holds its thread (in the web server, every request waiting on that thread;
in a worker, past the task's timeout and kill). The ``regex`` package takes a
``timeout`` and, with ``concurrent=True``, lets other threads run meanwhile.
"""

from __future__ import annotations

from functools import lru_cache

import regex

# Long enough for any sane pattern on a large text, short enough to keep a request fast.
PATTERN_SECONDS = 1.0
MAX_PATTERN_CHARS = 1_000


class PatternError(ValueError):
    """A pattern that does not compile, or took too long; the message says which."""


@lru_cache(maxsize=1024)
def user_pattern(pattern: str) -> regex.Pattern[str]:
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(
            f"the regular expression has {len(pattern)} characters, more than {MAX_PATTERN_CHARS}"
        )
    try:
        return regex.compile(pattern, flags=regex.VERSION0)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise PatternError(f"invalid regular expression '{pattern}': {exc}") from None


def _too_slow(pattern: str, text: str) -> PatternError:
    return PatternError(
        f"the regular expression '{pattern}' took more than {PATTERN_SECONDS:g} s on a text "
        f"of {len(text)} characters and was stopped: simplify it (nested repetition such as "
        "(a+)+ backtracks without end)"
    )


def pattern_fullmatch(pattern: str, text: str) -> bool:
    try:
        found = user_pattern(pattern).fullmatch(text, timeout=PATTERN_SECONDS, concurrent=True)
    except TimeoutError:
        raise _too_slow(pattern, text) from None
    return found is not None


def pattern_search(pattern: str, text: str) -> bool:
    try:
        found = user_pattern(pattern).search(text, timeout=PATTERN_SECONDS, concurrent=True)
    except TimeoutError:
        raise _too_slow(pattern, text) from None
    return found is not None


def pattern_sub(pattern: str, replacement: str, text: str) -> str:
    try:
        return user_pattern(pattern).sub(
            replacement, text, timeout=PATTERN_SECONDS, concurrent=True
        )
    except TimeoutError:
        raise _too_slow(pattern, text) from None
    except (regex.error, IndexError) as exc:  # a replacement naming a group that is not there
        raise PatternError(f"invalid replacement '{replacement}': {exc}") from None
