"""Kestra's internal storage: files of executions, named by ``kestra:///`` URIs.

A URI maps to a path in the ``flowsite`` storage of Django's storage API
(``STORAGES["flowsite"]``: a local directory by default, any backend by settings), so
moving the files to S3 is a settings change. Paths follow Kestra's layout::

    kestra:///{namespace as a/b}/{flow_id}/executions/{execution_id}/tasks/{task_id}/{task_run_id}/{name}

Every URI is checked before it reaches the storage: no ``..``, no absolute path, no
empty segment, so a URI can only name a file inside the storage's own root.
"""

from __future__ import annotations

from typing import IO, Any, NamedTuple

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from accounts.reach import CrossingRefused, file_require
from flowsite.bounded import FLOW_LIMITS, load_json
from flowsite.values import relative_path_check

from .models import Execution
from .runners.base import TaskError

SCHEME = "kestra:///"
READ_LIMIT = 64 * 1024 * 1024  # bytes a whole-file read may hold in memory


class StoredFile(NamedTuple):
    uri: str
    name: str
    size: int | None  # None when the file is missing from the storage
    task_id: str


def flowsite_storage() -> Storage:
    return storages["flowsite"]


def _storage_path(uri: str) -> str:
    if not isinstance(uri, str) or not uri.startswith(SCHEME):
        raise ValueError(f"'{uri}' is not an internal storage URI (kestra:///...)")
    return relative_path_check(uri[len(SCHEME) :], what="storage path")


def _namespace_path(namespace: str) -> str:
    return namespace.replace(".", "/")


def execution_uri_prefix(execution: Any) -> str:
    """Every file of ``execution`` has a URI starting with this."""
    return (
        f"{SCHEME}{_namespace_path(execution.namespace)}/{execution.flow_id}"
        f"/executions/{execution.pk}/"
    )


def storage_uri(execution: Any, task_run: Any, name: str) -> str:
    """Where an output file ``name`` of ``task_run`` is kept."""
    relative_path_check(name)
    return f"{execution_uri_prefix(execution)}tasks/{task_run.task_id}/{task_run.pk}/{name}"


def storage_input_uri(execution: Any, input_id: str, name: str) -> str:
    """Where the FILE input ``input_id`` of ``execution`` is kept, as Kestra lays it out."""
    relative_path_check(input_id, what="input id")
    relative_path_check(name)
    return f"{execution_uri_prefix(execution)}inputs/{input_id}/{name}"


def uri_belongs_to(uri: str, execution: Any) -> bool:
    """Whether ``uri`` names a file of ``execution`` (and is a well-formed URI)."""
    try:
        _storage_path(uri)
    except ValueError:
        return False
    return uri.startswith(execution_uri_prefix(execution))


def uri_execution_id(uri: str) -> str | None:
    """The id of the execution ``uri`` belongs to, or None for other URIs.

    A hint for messages and look-ups: a permission check must then compare the whole
    prefix with ``uri_belongs_to``, since a namespace may itself hold a segment named
    ``executions``.
    """
    try:
        segments = _storage_path(uri).split("/")
    except ValueError:
        return None
    # {namespace: one segment or more}/{flow_id}/executions/{execution_id}/...
    for index in range(2, len(segments) - 1):
        if segments[index] == "executions":
            return segments[index + 1]
    return None


def uri_execution(uri: str) -> Execution | None:
    """The execution ``uri`` names a file of, checked against its whole prefix."""
    try:
        segments = _storage_path(uri).split("/")
    except ValueError:
        return None
    candidates = [
        segments[index + 1]
        for index in range(2, len(segments) - 1)
        if segments[index] == "executions"
    ]
    for execution in Execution.objects.filter(pk__in=candidates):
        if uri_belongs_to(uri, execution):
            return execution
    return None


def storage_save(uri: str, content: bytes | IO[bytes]) -> str:
    """Store ``content`` at ``uri``, replacing what was there; returns the URI.

    A job may run twice (delivery is at least once): saving again overwrites rather
    than piling up copies under made-up names.
    """
    path = _storage_path(uri)
    storage = flowsite_storage()
    if storage.exists(path):
        storage.delete(path)
    wrapped = ContentFile(content) if isinstance(content, bytes) else File(content)
    saved = storage.save(path, wrapped)
    return SCHEME + saved.replace("\\", "/")


def storage_open(uri: str) -> IO[bytes]:
    """The stored file, open for reading; FileNotFoundError or ValueError otherwise."""
    path = _storage_path(uri)
    storage = flowsite_storage()
    if not storage.exists(path):
        raise FileNotFoundError(f"No file at {uri}")
    return storage.open(path, "rb")


def storage_size(uri: str) -> int:
    path = _storage_path(uri)
    storage = flowsite_storage()
    if not storage.exists(path):
        raise FileNotFoundError(f"No file at {uri}")
    return storage.size(path)


def storage_read(uri: str, limit: int = READ_LIMIT) -> bytes:
    """The whole file; ValueError when it holds more than ``limit`` bytes."""
    with storage_open(uri) as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{uri} is larger than {limit} bytes")
    return data


def uri_file_name(uri: str) -> str:
    return _storage_path(uri).rsplit("/", 1)[-1]


def execution_files(execution: Any) -> list[StoredFile]:
    """The output files of ``execution``'s task runs, in task run order.

    Read from the task runs' outputs (the database is the record), sized by the storage.
    """
    storage = flowsite_storage()
    files = []
    for run in execution.task_runs.all():
        outputs = run.outputs if isinstance(run.outputs, dict) else {}
        output_files = outputs.get("outputFiles")
        if not isinstance(output_files, dict):
            continue
        for name, uri in output_files.items():
            try:
                path = _storage_path(uri)
            except ValueError:
                continue
            size = storage.size(path) if storage.exists(path) else None
            files.append(StoredFile(uri, name, size, run.task_id))
    return files


def input_files_materialize(
    input_files: dict[str, str] | str, *, reader: Execution | None = None
) -> dict[str, bytes]:
    """The files a task's ``inputFiles`` writes, by name, once expressions are rendered.

    Kestra's forms: a map of name to content, or a string holding a JSON map (inline or
    in a stored file named by its URI). A content that is a ``kestra:///`` URI, such as
    ``{{ outputs.t.outputFiles['f.csv'] }}``, stands for the stored file's bytes. With
    ``reader``, a URI must name a file that execution may read (``accounts.reach``), so
    a flow cannot read another team's files by guessing their URIs. Raises TaskError
    naming the file.
    """
    mapping = _input_files_mapping(input_files, reader=reader)
    files: dict[str, bytes] = {}
    for name, content in mapping.items():
        try:
            relative_path_check(name, what="inputFiles name")
        except ValueError as exc:
            raise TaskError(f"inputFiles: {exc}") from None
        if isinstance(content, str) and content.strip().startswith(SCHEME):
            files[name] = _stored_content(content.strip(), f"inputFiles '{name}'", reader)
        elif isinstance(content, bytes):
            files[name] = content
        else:
            files[name] = str(content).encode()
    return files


def _input_files_mapping(
    input_files: dict[str, str] | str, *, reader: Execution | None
) -> dict[str, Any]:
    if isinstance(input_files, dict):
        return input_files
    text = input_files.strip()
    if text.startswith(SCHEME):
        text = _stored_content(text, "inputFiles", reader).decode("utf-8", errors="replace")
    try:
        mapping = load_json(text, FLOW_LIMITS)
    except ValueError as exc:
        raise TaskError(f"inputFiles must be a map of file names to contents: {exc}") from None
    if not isinstance(mapping, dict):
        raise TaskError("inputFiles must be a map of file names to contents, not a JSON list")
    return mapping


def _stored_content(uri: str, what: str, reader: Execution | None) -> bytes:
    try:
        return storage_read_for(reader, uri, what=what) if reader else storage_read(uri)
    except CrossingRefused as exc:
        raise TaskError(str(exc)) from None
    except (FileNotFoundError, ValueError) as exc:
        raise TaskError(f"{what}: {exc}") from None


def storage_read_for(reader: Execution, uri: str, *, what: str) -> bytes:
    """The file at ``uri``, for execution ``reader``: CrossingRefused unless it may read
    it (asked before the storage is touched, so a refusal tells nothing of the file)."""
    file_require(reader, uri_execution(uri), uri, what=what)
    return storage_read(uri)
