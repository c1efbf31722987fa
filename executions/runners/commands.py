"""Kestra's ``::{...}::`` lines: what a script tells the engine through its output.

A line that is exactly ``::`` + a JSON object + ``::``, on stdout or stderr, is a command
rather than output (the ``kestra`` PyPI helper prints them): ``outputs`` set the task's
outputs, ``metrics`` record counters, timers and gauges, ``logs`` are log lines at their
own level. Other keys (``assets``, say) are Kestra's too and pass silently, as there.

A command that cannot be read is not lost and never fails the task: the driver keeps the
line as plain output and says why beside it (``CommandInvalid``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flowsite.values import parse_duration

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
METRIC_TYPES = ("counter", "timer", "gauge")
MAX_NAME = 200  # characters of a metric's name, a tag's key or value
MAX_METRICS = 1000  # distinct metrics one attempt keeps; a runaway loop stops there


class CommandInvalid(ValueError):
    """A ``::{...}::`` line that cannot be read; the message says which part and why."""


@dataclass(frozen=True)
class LogEntry:
    level: str
    message: str


@dataclass(frozen=True)
class Metric:
    """One metric as Kestra stores it: timers in milliseconds."""

    type: str
    name: str
    value: float
    tags: tuple[tuple[str, str], ...] = ()
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        return self.type, self.name, self.tags


@dataclass
class ScriptCommand:
    outputs: dict[str, Any] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    logs: list[LogEntry] = field(default_factory=list)


def command_parse(text: str) -> ScriptCommand | None:
    """The command ``text`` holds; None when it is plain output. Raises CommandInvalid."""
    stripped = text.strip()
    if not (stripped.startswith("::{") and stripped.endswith("}::")):
        return None
    try:
        payload = json.loads(stripped[2:-2], parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise CommandInvalid(f"it is not valid JSON ({exc})") from None
    if not isinstance(payload, dict):  # ``::{"a": 1} {"b": 2}::`` and the like
        raise CommandInvalid("it is not a JSON object")
    command = ScriptCommand()
    outputs = payload.get("outputs")
    if outputs is not None:
        if not isinstance(outputs, dict):
            raise CommandInvalid("'outputs' must be an object")
        command.outputs = outputs
    command.metrics = [
        _metric(item, f"metrics[{n}]") for n, item in enumerate(_listed(payload, "metrics"))
    ]
    command.logs = [_log(item, f"logs[{n}]") for n, item in enumerate(_listed(payload, "logs"))]
    return command


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _listed(payload: dict[str, Any], key: str) -> list[Any]:
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise CommandInvalid(f"'{key}' must be a list")
    return value


def _text(value: Any, where: str, *, required: bool = True) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CommandInvalid(f"{where} must be text")
    text = str(value)
    if required and not text.strip():
        raise CommandInvalid(f"{where} must not be empty")
    if len(text) > MAX_NAME:
        raise CommandInvalid(f"{where} is longer than {MAX_NAME} characters")
    return text


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise CommandInvalid(f"{where} must be a number")
    try:
        number = float(value) if isinstance(value, int | float | str) else math.nan
    except (ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number):
        raise CommandInvalid(f"{where} must be a finite number")
    return number


def _milliseconds(value: Any, where: str) -> float:
    """A timer's value: seconds as a number, or an ISO-8601 duration (PT1.5S), as Kestra
    reads it; kept in milliseconds, as Kestra stores it."""
    if isinstance(value, str) and value.strip().upper().startswith("P"):
        try:
            return parse_duration(value).total_seconds() * 1000
        except ValueError as exc:
            raise CommandInvalid(f"{where}: {exc}") from None
    return _number(_number(value, where) * 1000, where)


def _metric(item: Any, where: str) -> Metric:
    if not isinstance(item, dict):
        raise CommandInvalid(f"{where} must be an object")
    kind = item.get("type")
    if kind not in METRIC_TYPES:
        raise CommandInvalid(f"{where}.type must be one of {', '.join(METRIC_TYPES)}")
    name = _text(item.get("name"), f"{where}.name")
    if "value" not in item:
        raise CommandInvalid(f"{where}.value is missing")
    value = item["value"]
    number = _milliseconds(value, f"{where}.value") if kind == "timer" else None
    number = _number(value, f"{where}.value") if number is None else number
    tags = item.get("tags") or {}
    if not isinstance(tags, dict):
        raise CommandInvalid(f"{where}.tags must be an object")
    pairs = tuple(
        sorted(
            (_text(k, f"{where}.tags key"), _text(v, f"{where}.tags.{k}", required=False))
            for k, v in tags.items()
        )
    )
    return Metric(type=kind, name=name, value=number, tags=pairs)


def _log(item: Any, where: str) -> LogEntry:
    if not isinstance(item, dict):
        raise CommandInvalid(f"{where} must be an object")
    level = item.get("level")
    level = level.strip().upper() if isinstance(level, str) else level
    level = "WARN" if level == "WARNING" else level
    if level not in LOG_LEVELS:
        raise CommandInvalid(f"{where}.level must be one of {', '.join(LOG_LEVELS)}")
    message = item.get("message")
    if isinstance(message, bool) or not isinstance(message, str | int | float):
        raise CommandInvalid(f"{where}.message must be text")
    return LogEntry(level=level, message=str(message))


class MetricTally:
    """The metrics of one attempt, as Kestra keeps them: one per type, name and tags,
    counters and timers summed, a gauge at its last value."""

    def __init__(self) -> None:
        self._metrics: dict[tuple[str, str, tuple[tuple[str, str], ...]], Metric] = {}
        self.dropped = 0

    def add(self, metric: Metric) -> None:
        current = self._metrics.get(metric.key)
        if current is None:
            if len(self._metrics) >= MAX_METRICS:
                self.dropped += 1
                return
            self._metrics[metric.key] = metric
        elif metric.type != "gauge":
            value = current.value + metric.value
            self._metrics[metric.key] = Metric(
                current.type, current.name, value, current.tags, current.timestamp
            )
        else:
            self._metrics[metric.key] = metric

    def metrics(self) -> list[Metric]:
        return list(self._metrics.values())
