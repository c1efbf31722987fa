"""What the execution page shows of an output file before anyone downloads it: the first
rows of a CSV, TSV or JSON Lines file as a table, a JSON list of objects as a table and
any other JSON indented, an image inline, the first lines of a text file.

Every read is bounded: a preview reads at most READ_BYTES of the file, however large
it is, and says when it stopped early. A file that cannot be shown says why.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from .outputs_shown import pretty_json
from .storage import storage_open, storage_size, uri_file_name

READ_BYTES = 256 * 1024  # read of a file previewed as text or a table
JSON_BYTES = 1024 * 1024  # a JSON document is parsed whole, or not at all
IMAGE_BYTES = 10 * 1024 * 1024  # an image larger than this is offered for download only
ROWS = 50
COLUMNS = 30
TEXT_LINES = 50
CELL_CHARS = 200

IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "svg": "image/svg+xml",
}
TABLE_SEPARATORS = {"csv": ",", "tsv": "\t"}


class CannotPreview(ValueError):
    """The file is not what its name says, or not readable as text."""


@dataclass
class Preview:
    kind: str  # "table", "json", "text", "image" or "none"
    name: str
    size: int
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    text: str = ""
    note: str = ""  # what was left out
    error: str = ""  # why there is no preview


def file_preview(uri: str) -> Preview:
    """The preview of the stored file ``uri`` (which the caller has checked belongs to an
    execution the reader may view); FileNotFoundError when it is missing."""
    name = uri_file_name(uri)
    size = storage_size(uri)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    preview = Preview("none", name, size)
    try:
        if extension in IMAGE_TYPES:
            _image(preview)
        elif extension in TABLE_SEPARATORS:
            _table(preview, uri, TABLE_SEPARATORS[extension])
        elif extension == "json":
            _json(preview, uri)
        elif extension in ("jsonl", "ndjson"):
            _json_lines(preview, uri)
        else:
            _text(preview, uri)
    except CannotPreview as exc:
        preview.kind, preview.error = "none", str(exc)
    return preview


def _read(uri: str, limit: int) -> tuple[str, bool]:
    """The file's first ``limit`` bytes as text, and whether the file goes on after them."""
    with storage_open(uri) as file:
        data = file.read(limit + 1)
    cut = len(data) > limit
    data = data[:limit]
    if b"\0" in data:
        raise CannotPreview("it is a binary file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not cut or exc.start < len(data) - 3:  # not only a character split by the cut
            raise CannotPreview(f"it is not UTF-8 text (byte {exc.start})") from None
        text = data[: exc.start].decode("utf-8")
    if cut:  # the last line is probably cut in the middle
        text = text[: text.rfind("\n") + 1] if "\n" in text else text
    return text.removeprefix("\ufeff"), cut


def _cell(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _image(preview: Preview) -> None:
    if preview.size > IMAGE_BYTES:
        raise CannotPreview(f"the image is larger than {IMAGE_BYTES // (1024 * 1024)} MB")
    preview.kind = "image"


def _table(preview: Preview, uri: str, separator: str) -> None:
    text, cut = _read(uri, READ_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if len(rows) > ROWS:
                cut = True
                break
            rows.append([_cell(value) for value in row[:COLUMNS]])
    except csv.Error as exc:
        raise CannotPreview(
            f"malformed {'CSV' if separator == ',' else 'TSV'}: {exc} (line {reader.line_num})"
        ) from None
    if not rows:
        raise CannotPreview("the file is empty")
    preview.kind, preview.header, preview.rows = "table", rows[0], rows[1 : ROWS + 1]
    if cut or len(rows) > ROWS + 1:
        preview.note = f"The first {len(preview.rows)} rows."


def _json(preview: Preview, uri: str) -> None:
    if preview.size > JSON_BYTES:
        raise CannotPreview(f"a JSON file larger than {JSON_BYTES // 1024} KB is not previewed")
    text, _ = _read(uri, JSON_BYTES)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CannotPreview(
            f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise CannotPreview("invalid JSON: nested too deep") from None
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        _objects_table(preview, value, cut=len(value) > ROWS)
        return
    preview.kind, preview.text = "json", pretty_json(value)
    lines = preview.text.splitlines()
    if len(lines) > TEXT_LINES * 4:
        preview.text = "\n".join(lines[: TEXT_LINES * 4])
        preview.note = f"The first {TEXT_LINES * 4} lines."


def _json_lines(preview: Preview, uri: str) -> None:
    text, cut = _read(uri, READ_BYTES)
    values: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(values) == ROWS:
            cut = True
            break
        try:
            values.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError) as exc:
            raise CannotPreview(f"line {number} is not JSON: {getattr(exc, 'msg', exc)}") from None
    if not values:
        raise CannotPreview("the file is empty")
    if all(isinstance(value, dict) for value in values):
        _objects_table(preview, values, cut=cut)
    else:
        preview.kind, preview.text = (
            "text",
            "\n".join(json.dumps(v, ensure_ascii=False) for v in values),
        )
        preview.note = f"The first {len(values)} lines." if cut else ""


def _objects_table(preview: Preview, objects: list[dict[str, Any]], *, cut: bool) -> None:
    shown = objects[:ROWS]
    header: list[str] = []
    for item in shown:
        header += [key for key in item if key not in header]
    header = header[:COLUMNS]
    preview.kind, preview.header = "table", header
    preview.rows = [[_cell(item[key]) if key in item else "" for key in header] for item in shown]
    if cut:
        preview.note = f"The first {len(shown)} rows."


def _text(preview: Preview, uri: str) -> None:
    text, cut = _read(uri, READ_BYTES)
    lines = text.splitlines()
    preview.kind, preview.text = "text", "\n".join(lines[:TEXT_LINES])
    if cut or len(lines) > TEXT_LINES:
        preview.note = f"The first {min(len(lines), TEXT_LINES)} lines."
