"""Kestra's (Java's) glob syntax for ``outputFiles``, over paths relative to a task's
working directory."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Kestra's (Java's) glob syntax over paths relative to the working directory.

    ``*`` and ``?`` stay within one directory, ``**`` crosses directories, ``[abc]`` and
    ``{csv,txt}`` as in Java. Unlike Java, ``**/`` may also match no directory at all, so
    ``out/**/*.txt`` takes ``out/a.txt`` too, as most glob users expect.
    """
    return re.compile(_glob_to_regex(pattern.removeprefix("./")) + r"\Z", re.DOTALL)


def glob_match(pattern: str, name: str) -> bool:
    return glob_regex(pattern).match(name) is not None


def glob_matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    regexes = [glob_regex(pattern) for pattern in patterns]
    return lambda name: any(regex.match(name) for regex in regexes)


def glob_base(pattern: str) -> str:
    """The literal directories a pattern starts with (the whole pattern when it holds
    no wildcard): only that part of the working directory needs to be looked at."""
    segments = pattern.removeprefix("./").split("/")
    for index, segment in enumerate(segments):
        if re.search(r"[*?\[{]", segment):
            return "/".join(segments[:index])
    return "/".join(segments)


def _glob_to_regex(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace("\\-", "-")
            out.append(f"[{'^/' if negate else ''}{body}]")
            i = end + 1
            continue
        elif char == "{" and (end := pattern.find("}", i)) != -1:
            choices = pattern[i + 1 : end].split(",")
            out.append("(?:" + "|".join(_glob_to_regex(choice) for choice in choices) + ")")
            i = end + 1
            continue
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)
