"""A python task's ``beforeCommands`` that only pip-install packages, read so that an
environment built once can stand in for them (a Flowsite extension).

The article's flow runs ``pip install colorama==0.4.0`` before its script on every run.
When every command is a plain install of packages from the index, those packages are all
the commands leave behind, and an environment holding them does the same in no time.
Anything else, and anything read here with less than certainty that ``/bin/sh`` and pip
(or uv) would read it the same, is refused: the commands then run as written.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from flowsite.values import relative_path_check

from .requirements import requirement_check


@dataclass(frozen=True)
class PipInstalls:
    """What a task's ``beforeCommands`` install, when that is all they do."""

    requirements: tuple[str, ...]  # in the commands' order, as written (stripped)
    upgrade: bool  # some command said -U or --upgrade


class _Unread(Exception):
    """A command not read here with certainty: it runs as written."""


# Unquoted, the shell reads these as operators, redirections, subshells, brace expansion
# or a comment: another command could run, or this one differently.
_SHELL_SYNTAX = frozenset(";&|<>(){}#")
# Expanded even between double quotes, or ending a command early: refused anywhere.
_NEVER = re.compile(r"[$`\x00-\x08\x0a-\x1f\x7f]")
# Unquoted, these make a word a glob that the shell replaces with the files it matches.
_GLOB = frozenset("*?[")

_PIP = re.compile(r"pip(3(\.[0-9]+)?)?")
_PYTHON = re.compile(r"python(3(\.[0-9]+)?)?")

# Options that change how the install looks or where its cache goes, never what it
# installs; each tool its own (uv refuses pip's --no-input, pip refuses uv's --system).
_QUIET = re.compile(r"-q{1,3}")
_UPGRADE = frozenset({"-U", "--upgrade"})
_FLAGS = {
    "pip": frozenset(
        {
            "--quiet",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-input",
            "--no-warn-script-location",
            "--root-user-action=ignore",
            "--progress-bar=off",
        }
    ),
    "uv": frozenset({"--quiet", "--no-cache-dir", "--disable-pip-version-check", "--system"}),
}
# Options that take the next word as their value, with the one value accepted.
_VALUED = {"pip": {"--root-user-action": "ignore", "--progress-bar": "off"}, "uv": {}}

# pip's reading of a requirements file: a comment starts at a '#' after blank space.
_COMMENT = re.compile(r"(^|\s+)#.*$")
# Line breaks for Python's splitlines (which pip uses) but not for uv.
_ODD_BREAKS = re.compile(r"[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# A PEP 263 coding line, which pip obeys in a requirements file.
_CODING = re.compile(r"coding[:=]")
# Names pip takes for a file to install rather than a package from the index.
_ARCHIVES: tuple[str, ...] = (".whl", ".zip", ".tar", ".tgz", ".tbz", ".txz", ".tlz")
_ARCHIVES += (".tar.gz", ".tar.bz2", ".tar.xz", ".tar.lz", ".tar.lzma")
# uv reads these as project metadata or PEP 723 scripts, pip as requirements.
_NOT_REQUIREMENTS_FILES = (".py", ".toml", ".cfg")


def pip_commands_read(
    commands: Sequence[str], files: Mapping[str, str | bytes]
) -> PipInstalls | None:
    """The packages `commands` install when every one of them is a plain pip install of
    packages from the index (so an environment built once can stand in for them); None when
    any command does anything else, or is not something we are sure to read right.

    ``files`` are the files in the working directory when the commands start (relative
    path to content): a ``-r`` file is read from them, and a glob that could match one of
    them is refused. The commands are read as ``/bin/sh`` reads them.
    """
    if not commands:
        return None
    requirements: list[str] = []
    upgrade = False
    try:
        for command in commands:
            read, upgraded = _command_read(command, files)
            requirements += read
            upgrade = upgrade or upgraded
    except (_Unread, ValueError):  # RequirementInvalid, UnicodeDecodeError, shlex's
        return None
    return PipInstalls(requirements=tuple(requirements), upgrade=upgrade)


def pip_commands_describe(installs: PipInstalls, *, shown: int = 5) -> str:
    """``2 packages from beforeCommands (colorama==0.4.0, requests)``, for a log line."""
    count = len(installs.requirements)
    names = ", ".join(installs.requirements[:shown]) + (", …" if count > shown else "")
    return f"{count} package{'' if count == 1 else 's'} from beforeCommands ({names})"


def _command_read(command: str, files: Mapping[str, str | bytes]) -> tuple[list[str], bool]:
    if not isinstance(command, str):
        raise _Unread
    words = _shell_words(command, files)
    tool, arguments = _tool_and_arguments(words)
    requirements: list[str] = []
    upgrade = False
    remaining = iter(arguments)
    for word in remaining:
        if word in _UPGRADE:
            upgrade = True
        elif word in _FLAGS[tool] or _QUIET.fullmatch(word):
            continue
        elif word in _VALUED[tool]:
            if next(remaining, None) != _VALUED[tool][word]:
                raise _Unread
        elif word in ("-r", "--requirement"):
            requirements += _requirements_file(next(remaining, ""), files)
        elif word.startswith("--requirement="):
            requirements += _requirements_file(word.removeprefix("--requirement="), files)
        elif word.startswith("-r") and not word.startswith("-r="):  # -r= differs in uv
            requirements += _requirements_file(word.removeprefix("-r"), files)
        elif word.startswith("-"):
            raise _Unread
        else:
            requirements.append(_requirement(word, files))
    if not requirements:
        raise _Unread
    return requirements, upgrade


def _shell_words(command: str, files: Mapping[str, str | bytes]) -> list[str]:
    """The words ``/bin/sh`` makes of ``command``: shlex's, once sure the shell reads no
    syntax in it and expands no glob to one of ``files``."""
    if _NEVER.search(command):
        raise _Unread
    words = shlex.split(command)
    if _scanned_words(command, files) != words:
        raise _Unread
    return words


def _scanned_words(command: str, files: Mapping[str, str | bytes]) -> list[str]:
    """The shell's own reading of quotes and escapes, which shlex's cannot tell apart
    from what they quote: an unquoted ';' is syntax, a quoted one is text."""
    words: list[str] = []
    text: list[str] = []
    started = globbed = False
    quote = previous = ""
    characters = iter(command)
    for character in characters:
        if quote:
            if character == quote:
                quote = ""
            elif quote == '"' and character == "\\":
                escaped = next(characters, "")
                text.append(escaped if escaped in ('"', "\\") else "\\" + escaped)
            else:
                text.append(character)
        elif character in " \t":
            if started:
                words.append(_unglobbed("".join(text), globbed, files))
                text, started, globbed = [], False, False
        elif character in _SHELL_SYNTAX:
            raise _Unread
        elif character == "~" and (not started or previous in ("=", ":")):
            raise _Unread  # tilde expansion
        elif character in "'\"":
            started, quote = True, character
        elif character == "\\":
            escaped = next(characters, "")
            if not escaped:
                raise _Unread
            started = True
            text.append(escaped)
        else:
            started = True
            globbed = globbed or character in _GLOB
            text.append(character)
        previous = character
    if quote:
        raise _Unread
    if started:
        words.append(_unglobbed("".join(text), globbed, files))
    return words


def _unglobbed(word: str, globbed: bool, files: Mapping[str, str | bytes]) -> str:
    """``word`` as the shell passes it on: a glob matching no file stays as written."""
    if globbed and any(fnmatchcase(name, word) for name in _names_in_directory(files)):
        raise _Unread
    return word


def _names_in_directory(files: Mapping[str, str | bytes]) -> Iterable[str]:
    """Every file and folder of ``files``, as a path from the working directory."""
    for name in files:
        parts = str(name).split("/")
        yield from ("/".join(parts[: end + 1]) for end in range(len(parts)))


def _tool_and_arguments(words: list[str]) -> tuple[str, list[str]]:
    """Which installer runs (``pip`` or ``uv``) and the words after its ``install``."""
    if len(words) >= 2 and _PIP.fullmatch(words[0]) and words[1] == "install":
        return "pip", words[2:]
    if len(words) >= 4 and _PYTHON.fullmatch(words[0]) and words[1:4] == ["-m", "pip", "install"]:
        return "pip", words[4:]
    if words[:3] == ["uv", "pip", "install"]:
        return "uv", words[3:]
    raise _Unread


def _requirement(text: str, files: Mapping[str, str | bytes]) -> str:
    """A requirement of a package from the index, as written; _Unread for a file, a folder
    or a URL, which pip would install from there."""
    text = text.strip()
    if "/" in text or "\\" in text or text.startswith((".", "~")):
        raise _Unread
    name = requirement_check(text).name
    if name.lower().endswith(_ARCHIVES) or {text, name} & set(_names_in_directory(files)):
        raise _Unread
    return text


def _requirements_file(name: str, files: Mapping[str, str | bytes]) -> list[str]:
    """The requirements of a ``-r`` file the task brings, read as pip reads them; _Unread
    for a file it does not bring or one with anything but requirements in it."""
    while name.startswith("./"):
        name = name[2:]
    relative_path_check(name)  # a ValueError: refused
    if name.startswith("-") or name.endswith(_NOT_REQUIREMENTS_FILES) or name not in files:
        raise _Unread
    content = files[name]
    if isinstance(content, bytes):
        content = content.decode("utf-8")  # a UnicodeDecodeError: refused
    if not isinstance(content, str):
        raise _Unread
    content = content.removeprefix("\ufeff").replace("\r\n", "\n")
    if _ODD_BREAKS.search(content) or "\x00" in content:
        raise _Unread
    if _CODING.search("\n".join(content.split("\n")[:2])):
        raise _Unread  # pip would decode it with another codec
    requirements = []
    for line in _requirement_lines(content.split("\n")):
        # pip and uv expand ${VARIABLES}; a word starting with '-' is an option.
        if "$" in line or any(word.startswith("-") for word in line.split()):
            raise _Unread
        requirements.append(_requirement(line, files))
    return requirements


def _requirement_lines(lines: list[str]) -> Iterable[str]:
    """Lines joined where they end in a backslash, without comments or blank lines: pip's
    ``join_lines`` then ``ignore_comments`` (pip/_internal/req/req_file.py)."""
    joined: list[str] = []
    for line in lines:
        if line.endswith("\\") and not _COMMENT.match(line):
            joined.append(line.strip("\\"))
            continue
        whole = "".join([*joined, " " + line if _COMMENT.match(line) else line])
        joined = []
        yield from _uncommented(whole)
    if joined:
        yield from _uncommented("".join(joined))


def _uncommented(line: str) -> Iterable[str]:
    line = _COMMENT.sub("", line).strip()
    if line:
        yield line
