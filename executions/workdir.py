"""A WorkingDirectory's one directory, kept between its tasks.

Each task inside runs in a directory of its own, on whichever worker and runner (Docker
or Process) takes it, as every task does. What makes the directory one: before a script
task inside starts, the files the task before it left are put in its directory, and
once it ran, every file of its directory is kept, as one archive in the execution's
storage, for the next. The first task finds the WorkingDirectory's ``inputFiles``; each
one that ran updates its ``outputFiles``.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
from typing import Any

from flows.expressions import render_value
from flows.language import FlowDefinition
from flows.language.tasks import BaseTask, WorkingDirectoryTask

from .context import render_context
from .models import Execution, TaskRun
from .runners.globs import glob_matcher
from .storage import SCHEME, input_files_materialize, storage_read, storage_save, storage_uri

WORKDIR_ARCHIVE = "working-directory.tar"


def workdir_holder(
    task_run: TaskRun, definition: FlowDefinition
) -> tuple[TaskRun, WorkingDirectoryTask] | None:
    """The WorkingDirectory ``task_run`` runs in (the nearest), with its run."""
    parent = task_run.parent
    while parent is not None:
        task = definition.task(parent.task_id)
        if isinstance(task, WorkingDirectoryTask):
            return parent, task
        parent = parent.parent
    return None


def workdir_files(
    *,
    execution: Execution,
    definition: FlowDefinition,
    holder: tuple[TaskRun, WorkingDirectoryTask],
    task_run: TaskRun,
) -> dict[str, bytes]:
    """The files of the shared directory as the task before left them; for the first
    task, the WorkingDirectory's ``inputFiles``, rendered for ``task_run``."""
    run, task = holder
    try:
        return _unpacked(storage_read(storage_uri(execution, run, WORKDIR_ARCHIVE)))
    except FileNotFoundError:
        pass
    files = _cached(execution, holder)
    if task.input_files is not None:
        context = render_context(execution, definition, list(execution.task_runs.all()), task_run)
        rendered = render_value(task.input_files, context)
        files.update(input_files_materialize(rendered, reader=execution))
    return files


def _unpacked(data: bytes, *, fresh_after: float | None = None) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            if fresh_after is not None and member.mtime < fresh_after:
                return {}  # the cache outlived its ttl
            content = tar.extractfile(member) if member.isreg() else None
            if content is not None:
                files[member.name] = content.read()
    return files


def _packed(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(content), int(now)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _cache_uri(execution: Execution, holder: tuple[TaskRun, WorkingDirectoryTask]) -> str:
    """Per flow, WorkingDirectory and loop value: where its ``cache`` is kept."""
    run, _ = holder
    value = hashlib.sha256((run.value or "").encode()).hexdigest()[:16]
    namespace = execution.namespace.replace(".", "/")
    return f"{SCHEME}{namespace}/{execution.flow_id}/cache/{run.task_id}/{value}/cache.tar"


def _cached(execution: Execution, holder: tuple[TaskRun, WorkingDirectoryTask]) -> dict[str, bytes]:
    cache = holder[1].cache
    if cache is None:
        return {}
    fresh_after = time.time() - cache.ttl.total_seconds() if cache.ttl is not None else None
    try:
        return _unpacked(storage_read(_cache_uri(execution, holder)), fresh_after=fresh_after)
    except FileNotFoundError:
        return {}


def workdir_keep(
    *,
    execution: Execution,
    holder: tuple[TaskRun, WorkingDirectoryTask],
    files: dict[str, bytes],
) -> None:
    """Keep the directory a task inside left, and the WorkingDirectory's outputFiles."""
    run, task = holder
    storage_save(storage_uri(execution, run, WORKDIR_ARCHIVE), _packed(files))
    if task.cache is not None:  # kept again only when what it holds changed
        cached = glob_matcher(task.cache.patterns)
        taken = {name: content for name, content in files.items() if cached(name)}
        if taken and taken != _cached(execution, holder):
            storage_save(_cache_uri(execution, holder), _packed(taken))
    if not task.output_files:
        return
    matches = glob_matcher(task.output_files)
    kept = {
        name: storage_save(storage_uri(execution, run, name), content)
        for name, content in files.items()
        if matches(name)
    }
    outputs: dict[str, Any] = {**(run.outputs or {}), "outputFiles": kept}
    TaskRun.objects.filter(pk=run.pk).update(outputs=outputs)


def workdir_task(task: BaseTask, holder: WorkingDirectoryTask) -> BaseTask:
    """``task`` as it runs inside ``holder``: a script task that says nothing of
    ``namespaceFiles`` takes the WorkingDirectory's, where script tasks support them."""
    field = type(task).model_fields.get("namespace_files")
    if holder.namespace_files is None or field is None or field.exclude:
        return task  # not a script task, or one whose namespaceFiles Flowsite refuses
    if getattr(task, "namespace_files", None) is not None:
        return task
    raw = task.model_dump(mode="json", by_alias=True, exclude_unset=True)
    raw["namespaceFiles"] = holder.namespace_files.model_dump(mode="json", by_alias=True)
    return type(task).model_validate(raw)
