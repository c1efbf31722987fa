"""MultipleCondition and preconditions: conditions met by several executions, each at its
own time, within one time window. The results gathered so far are rows
(``ConditionWindow``), written in the transaction that ends (or changes) the upstream
execution, so an execution counts once, and a window is met exactly once per reset."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, time, timedelta

from django.db import IntegrityError, transaction

from flows.language.triggers import TimeWindow

from .models import ConditionWindow, TriggerState

ONE_DAY = timedelta(days=1)
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def window_bounds(window: TimeWindow, now: datetime) -> tuple[datetime, datetime] | None:
    """The window ``now`` falls in, as Kestra draws it; None outside any (a daily window
    before its start or after its end)."""
    size = window.window or ONE_DAY
    midnight = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
    if window.type == "SLIDING_WINDOW":
        return _EPOCH, _FOREVER  # one row; results older than the window are dropped
    if window.type == "DAILY_TIME_DEADLINE":
        deadline = _today_at(midnight, window.deadline or time(23, 59, 59))
        return (midnight, deadline) if now <= deadline else None
    if window.type == "DAILY_TIME_WINDOW":
        start = _today_at(midnight, window.start_time or time())
        end = _today_at(midnight, window.end_time or time(23, 59, 59))
        return (start, end) if start <= now <= end else None
    anchor = midnight + (window.window_advance or timedelta(0))
    start = anchor + ((now - anchor) // size) * size
    return start, start + size


def _today_at(midnight: datetime, moment: time) -> datetime:
    offset = moment.utcoffset() or timedelta(0)
    return (
        midnight
        + timedelta(hours=moment.hour, minutes=moment.minute, seconds=moment.second)
        - offset
    )


def window_met(
    *,
    state: TriggerState,
    condition_id: str,
    tests: Iterable[tuple[str, Callable[[], bool]]],
    window: TimeWindow,
    reset_on_success: bool,
    now: datetime,
) -> bool:
    """Record which of ``tests`` this execution meets, in the window of ``now``; True
    when, with it, every one of them has been met in the window."""
    tests = list(tests)
    bounds = window_bounds(window, now)
    met = [key for key, test in tests if test()] if bounds is not None else []
    if bounds is None or not met:
        return False
    keys = {key for key, _ in tests}
    row = _window_locked(state, condition_id, bounds)
    results = {k: v for k, v in row.results.items() if k in keys}
    if window.type == "SLIDING_WINDOW":
        oldest = now - (window.window or ONE_DAY)
        results = {k: v for k, v in results.items() if datetime.fromisoformat(v) > oldest}
    results.update({key: now.isoformat() for key in met})
    complete = keys <= results.keys()
    row.results = {} if complete and reset_on_success else results
    row.save(update_fields=["results"])
    ConditionWindow.objects.filter(
        namespace=state.namespace,
        flow_id=state.flow_id,
        trigger_id=state.trigger_id,
        end__lt=now - ONE_DAY,
    ).delete()  # windows long past: nothing will complete them
    return complete


def _window_locked(
    state: TriggerState, condition_id: str, bounds: tuple[datetime, datetime]
) -> ConditionWindow:
    key = {
        "namespace": state.namespace,
        "flow_id": state.flow_id,
        "trigger_id": state.trigger_id,
        "condition_id": condition_id,
        "start": bounds[0],
    }
    row = ConditionWindow.objects.select_for_update().filter(**key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return ConditionWindow.objects.create(**key, end=bounds[1])
    except IntegrityError:  # another ending created it first: wait for its lock
        return ConditionWindow.objects.select_for_update().get(**key)
