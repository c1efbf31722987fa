"""Kestra's filters over text: case, substrings, replacing, encodings, digests, indenting."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import yaml

from flowsite.patterns import pattern_sub

from .errors import MAX_OUTPUT_CHARS, FilterError, LimitExceeded
from .printing import to_json, to_text

MAX_INDENT = 1_000


def _abbreviate(value: Any, length: int) -> str:
    text = to_text(value)
    if len(text) <= length:
        return text
    return text[:length] if length <= 3 else text[: length - 3] + "..."


def _capitalize(value: Any) -> str:
    text = to_text(value)
    return text[:1].upper() + text[1:]


def _title(value: Any) -> str:
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), to_text(value))


def _split(value: Any, delimiter: str, limit: int | None = None) -> list[str]:
    text = to_text(value)
    if limit is not None and limit > 0:
        return text.split(delimiter, limit - 1)
    return text.split(delimiter)


def _replace(value: Any, replacements: Any, replacement: Any = None, regexp: bool = False) -> str:
    """Pebble's ``replace({'a': 'b'})``, and ``replace('a', 'b')`` too."""
    text = to_text(value)
    if not isinstance(replacements, Mapping):
        if replacement is None:
            raise FilterError("replace() takes a map {'old': 'new'} or two texts: old, new")
        replacements = {replacements: replacement}
    for old, new in replacements.items():
        old_text, new_text = to_text(old), to_text(new)
        if regexp:
            text = pattern_sub(old_text, new_text.replace("$", "\\"), text)
        else:
            grows = text.count(old_text) * (len(new_text) - len(old_text)) if old_text else 0
            if len(text) + grows > MAX_OUTPUT_CHARS:
                raise LimitExceeded(f"replace() would make more than {MAX_OUTPUT_CHARS} characters")
            text = text.replace(old_text, new_text) if old_text else text
        if len(text) > MAX_OUTPUT_CHARS:
            raise LimitExceeded(f"replace() would make more than {MAX_OUTPUT_CHARS} characters")
    return text


def _slugify(value: Any) -> str:
    text = unicodedata.normalize("NFKD", to_text(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _urlencode(value: Any) -> str:
    """Java's URLEncoder: spaces as ``+``, ``*`` kept, ``~`` encoded."""
    return quote_plus(to_text(value), safe="*").replace("~", "%7E")


def _urldecode(value: Any) -> str:
    return unquote_plus(to_text(value))


def _base64encode(value: Any) -> str:
    return base64.b64encode(to_text(value).encode()).decode()


def _base64decode(value: Any) -> str:
    return base64.b64decode(to_text(value)).decode("utf-8", errors="replace")


def _digest(algorithm: str) -> Callable[[Any], str]:
    def digest(value: Any) -> str:
        return hashlib.new(algorithm, to_text(value).encode()).hexdigest()

    return digest


def _starts_with(value: Any, prefix: Any) -> bool:
    return to_text(value).startswith(to_text(prefix))


def _ends_with(value: Any, suffix: Any) -> bool:
    return to_text(value).endswith(to_text(suffix))


def _substring_before(value: Any, separator: str) -> str:
    text = to_text(value)
    return text.split(separator, 1)[0] if separator else ""


def _substring_after(value: Any, separator: str) -> str:
    text = to_text(value)
    return text.split(separator, 1)[1] if separator and separator in text else ""


def _substring_before_last(value: Any, separator: str) -> str:
    text = to_text(value)
    return text.rsplit(separator, 1)[0] if separator and separator in text else text


def _substring_after_last(value: Any, separator: str) -> str:
    text = to_text(value)
    return text.rsplit(separator, 1)[1] if separator and separator in text else ""


_ESCAPE_STYLES = {"shell": ("'", "'\\''"), "single": ("'", "\\'"), "double": ('"', '\\"')}


def _escape_char(value: Any, type: str | None = None) -> Any:  # noqa: A002 - Kestra's name
    if type is None or type.lower() not in _ESCAPE_STYLES:
        raise FilterError("escapeChar() expects 'single', 'double', or 'shell'")
    old, new = _ESCAPE_STYLES[type.lower()]
    if isinstance(value, Mapping):
        return {k: _escape_char(v, type) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_char(item, type) for item in value]
    return to_text(value).replace(old, new)


def _to_yaml(value: Any) -> str:
    plain = json.loads(to_json(value))
    return yaml.safe_dump(plain, default_flow_style=False, sort_keys=False, allow_unicode=True)


def _indent(value: Any, amount: int, prefix: str = " ") -> str:
    if not 0 <= amount <= MAX_INDENT:
        raise FilterError(f"indent() takes 0 to {MAX_INDENT} characters")
    lines = to_text(value).split("\n")
    pad = prefix * amount
    return "\n".join([lines[0], *(pad + line if line else line for line in lines[1:])])


def _nindent(value: Any, amount: int, prefix: str = " ") -> str:
    if not 0 <= amount <= MAX_INDENT:
        raise FilterError(f"nindent() takes 0 to {MAX_INDENT} characters")
    pad = prefix * amount
    return "\n" + "\n".join(pad + line if line else line for line in to_text(value).split("\n"))


TEXT_FILTERS: dict[str, Callable[..., Any]] = {
    "abbreviate": _abbreviate,
    "base64decode": _base64decode,
    "base64encode": _base64encode,
    "capitalize": _capitalize,
    "endsWith": _ends_with,
    "escapeChar": _escape_char,
    "indent": _indent,
    "lower": lambda value: to_text(value).lower(),
    "md5": _digest("md5"),
    "nindent": _nindent,
    "replace": _replace,
    "sha1": _digest("sha1"),
    "sha256": _digest("sha256"),
    "sha512": _digest("sha512"),
    "slugify": _slugify,
    "split": _split,
    "startsWith": _starts_with,
    "substringAfter": _substring_after,
    "substringAfterLast": _substring_after_last,
    "substringBefore": _substring_before,
    "substringBeforeLast": _substring_before_last,
    "title": _title,
    "toYaml": _to_yaml,
    "trim": lambda value: to_text(value).strip(),
    "upper": lambda value: to_text(value).upper(),
    "urldecode": _urldecode,
    "urlencode": _urlencode,
    "yaml": _to_yaml,
}
