"""What a task's ``logLevel`` and ``logToFile`` change in its log lines. Lines below its
``logLevel`` are not kept (Kestra's minimum level for the task's logger). With
``logToFile`` each attempt's lines are also kept as a text file in the internal storage,
named on the attempt (Kestra's ``logFile``); unlike Kestra they stay on the page too, so
that following a run live still works."""

from __future__ import annotations

from django.utils import timezone

from flows.language.tasks import BaseTask

from .live import LogWriter
from .models import LogLine, TaskRun
from .storage import storage_save, storage_uri

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


def _rank(level: str) -> int:
    level = "WARN" if level == "WARNING" else level
    return LEVELS.index(level) if level in LEVELS else LEVELS.index("INFO")


class TaskLogWriter(LogWriter):
    """A LogWriter that keeps only lines at or above ``min_level``, and collects them for
    a file when ``to_file``."""

    def __init__(self, task_run: TaskRun, *, min_level: str | None, to_file: bool):
        super().__init__(task_run)
        self.min_rank = _rank(min_level) if min_level else 0
        self.file_lines: list[str] | None = [] if to_file else None

    def line(self, stream: str, text: str, level: str | None = None) -> None:
        level = level or ("WARN" if stream == LogLine.Stream.STDERR else "INFO")
        if _rank(level) < self.min_rank:
            return
        super().line(stream, text, level)
        if self.file_lines is not None and not (self.output_truncated and stream != "system"):
            stamp = timezone.now().isoformat(timespec="milliseconds")
            self.file_lines.append(f"{stamp} {level} {self.mask(text)}")

    def log_file_save(self) -> str:
        """Store this attempt's lines as a file; its kestra:/// URI, or "" without
        ``logToFile``."""
        if self.file_lines is None:
            return ""
        run = self.task_run
        content = "".join(line + "\n" for line in self.file_lines).encode()
        self.file_lines = []
        return storage_save(
            storage_uri(run.execution, run, f"log-attempt-{run.attempt}.txt"), content
        )


def task_log_writer(task_run: TaskRun, task: BaseTask) -> LogWriter:
    """The writer for one attempt of ``task``: the plain one unless it sets logLevel or
    logToFile."""
    if task.log_level is None and not task.log_to_file:
        return LogWriter(task_run)
    return TaskLogWriter(task_run, min_level=task.log_level, to_file=task.log_to_file)
