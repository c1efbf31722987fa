"""The clock: fires schedules, runs backfills, and lets the engine act on delayed work.

``clock_tick(now)`` takes the time as a parameter, so tests drive the clock by hand;
the loop in clock_loop.py calls it about every second. Several clocks may run at once
(one per host): each schedule is advanced under its row lock, and a slot's firing row is
unique, so a slot never runs twice.

A schedule is armed by the first tick that sees it (its next date computed from that
tick's time) and fires each slot once its time has passed. Slots more than LATE_GRACE
old when a tick reaches them were missed (the clock was down): ``recoverMissedSchedules``
decides, ALL runs each, LAST only the latest, NONE none. A disabled trigger never fires;
enabling it again re-arms it, so the slots missed while it was off are skipped, as in
Kestra; a backfill runs them when they are wanted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice, takewhile

from django.contrib.auth.models import User
from django.db import transaction

from executions.upkeep import upkeep_tick
from flows.language.triggers import ConditionInvalid, ScheduleTrigger
from flows.models import Flow
from flowsite.http import RequestUser

from .models import SCHEDULE, Backfill, TriggerState
from .sla_monitors import sla_monitors_tick
from .states import trigger_start_logged

logger = logging.getLogger(__name__)

LATE_GRACE = timedelta(seconds=60)
SLOTS_PER_TICK = 100  # a long outage with ALL catches up over several ticks
MAX_BACKFILL_SLOTS = 10_000
ONE_SECOND = timedelta(seconds=1)


def clock_tick(now: datetime) -> None:
    """Everything the clock does at ``now``: schedules, backfills, SLAs, then the engine's
    upkeep (retries and pause timeouts that are due, the minutely sweep)."""
    schedules_tick(now)
    backfills_tick(now)
    sla_monitors_tick(now)
    upkeep_tick(now)


# --- Schedules --------------------------------------------------------------------------


def schedules_tick(now: datetime) -> int:
    """Arm new schedules and fire the due slots of the others; returns executions started."""
    due = (
        TriggerState.objects.filter(type=SCHEDULE, disabled=False, declared_disabled=False)
        .exclude(next_date__gt=now)  # not armed yet (NULL), or due
        .values_list("pk", flat=True)
    )
    return sum(schedule_tick(state_id=pk, now=now) for pk in list(due))


def schedule_tick(*, state_id: int, now: datetime) -> int:
    with transaction.atomic():
        state = (
            TriggerState.objects.select_for_update()
            .filter(pk=state_id, disabled=False, declared_disabled=False)
            .first()
        )
        if state is None or (state.next_date is not None and state.next_date > now):
            return 0  # another clock got there first
        flow = Flow.objects.live().filter(namespace=state.namespace, flow_id=state.flow_id).first()
        if flow is None:
            state.delete()
            return 0
        schedule = state.schedule
        if state.next_date is None:
            _arm(state, schedule, now)
            return 0
        slots, following = due_slots(schedule, state.next_date, now)
        started = 0
        for slot in slots:
            started += _slot_start(state, flow, schedule, slot, key=slot_key(slot))
        state.last_date = slots[-1] if slots else state.last_date
        state.next_date = following
        state.save(update_fields=["last_date", "next_date"])
    return started


def _slot_start(
    state: TriggerState,
    flow: Flow,
    schedule: ScheduleTrigger,
    slot: datetime,
    *,
    key: str,
    labels: dict[str, str] | None = None,
) -> bool:
    """Start the slot's execution, unless the schedule's ``conditions`` turn it down."""
    variables = schedule.variables(slot)
    try:
        admitted = schedule.admits(
            slot, {"trigger": variables, "flow": {"id": flow.flow_id, "namespace": flow.namespace}}
        )
    except ConditionInvalid as exc:
        logger.warning(
            "Trigger %s: its conditions could not be decided for %s: %s", state, slot, exc
        )
        return False
    if not admitted:
        logger.info("Trigger %s: the slot %s does not meet its conditions", state, slot)
        return False
    return trigger_start_logged(
        state=state,
        flow=flow,
        variables=variables,
        key=key,
        date=slot,
        labels=labels,
        inputs=schedule.inputs,
    )


def _arm(state: TriggerState, schedule: ScheduleTrigger, now: datetime) -> None:
    state.next_date = schedule.next_slot(now)
    state.save(update_fields=["next_date"])
    # Kestra's older ``backfill: {start}`` property: the past slots run once, when the
    # schedule is first armed.
    declared = schedule.backfill
    if (
        declared is not None
        and declared.start is not None
        and state.last_date is None
        and not state.backfills.exists()
    ):
        try:
            backfill_create(
                state=state,
                start=declared.start,
                end=min(declared.end or now, now),
                labels=declared.labels,
                now=now,
            )
        except BackfillInvalid as exc:
            logger.warning("The backfill of %s was not started: %s", state, exc)


def due_slots(
    schedule: ScheduleTrigger, next_date: datetime, now: datetime
) -> tuple[list[datetime], datetime]:
    """The slots from ``next_date`` to ``now`` to fire, and the next date after them."""
    late_before = now - LATE_GRACE
    if schedule.late_maximum_delay is not None:
        late_before = max(late_before, now - schedule.late_maximum_delay)
        policy = "NONE"  # slots older than the delay are skipped, whatever the policy
    else:
        policy = schedule.recover_missed_schedules
    if policy == "ALL":
        slots = list(islice(slots_between(schedule, next_date, now), SLOTS_PER_TICK))
        if len(slots) == SLOTS_PER_TICK:
            return slots, schedule.next_slot(slots[-1])
        return slots, schedule.next_slot(now)
    on_time = list(slots_between(schedule, max(next_date, late_before), now))
    if not on_time and policy == "LAST":
        latest = schedule.previous_slot(now + ONE_SECOND)
        on_time = [latest] if latest >= next_date else []
    return on_time, schedule.next_slot(now)


def slots_between(schedule: ScheduleTrigger, start: datetime, end: datetime) -> Iterator[datetime]:
    """The slots in [start, end]. Slots are whole seconds, so starting one second before
    ``start`` includes it."""
    return takewhile(lambda s: s <= end, schedule.slots_after(start - ONE_SECOND))


def slot_key(slot: datetime) -> str:
    """The same instant gives the same key, whatever zone the cron was read in."""
    return slot.astimezone(UTC).isoformat()


# --- Backfills --------------------------------------------------------------------------


class BackfillInvalid(ValueError):
    pass


def backfill_create(
    *,
    state: TriggerState,
    start: datetime,
    end: datetime,
    labels: dict[str, str] | None = None,
    user: RequestUser | None = None,
    now: datetime,
) -> Backfill:
    """Plan one execution per slot of the schedule in [start, end]; the clock starts them."""
    if not state.is_schedule:
        raise BackfillInvalid("Only a Schedule trigger can be backfilled")
    if end < start:
        raise BackfillInvalid("The end of a backfill must not be before its start")
    if end > now:
        raise BackfillInvalid("A backfill runs past dates: its end must not be in the future")
    schedule = state.schedule
    slots = list(islice(slots_between(schedule, start, end), MAX_BACKFILL_SLOTS + 1))
    if not slots:
        raise BackfillInvalid(f"No date of the schedule '{schedule.cron}' falls in that range")
    if len(slots) > MAX_BACKFILL_SLOTS:
        raise BackfillInvalid(
            f"That range holds more than {MAX_BACKFILL_SLOTS} dates of the schedule: "
            "backfill a shorter one"
        )
    return Backfill.objects.create(
        trigger=state,
        start=start,
        end=end,
        labels=labels or {},
        next_date=slots[0],
        total=len(slots),
        requested_by=user if isinstance(user, User) else None,
    )


def backfills_tick(now: datetime) -> int:
    """Start the next batch of each backfill under way; returns executions started."""
    running = Backfill.objects.filter(next_date__isnull=False).values_list("pk", flat=True)
    return sum(backfill_tick(backfill_id=pk) for pk in list(running))


def backfill_tick(*, backfill_id: int) -> int:
    with transaction.atomic():
        backfill = (
            Backfill.objects.select_for_update()
            .select_related("trigger")
            .filter(pk=backfill_id, next_date__isnull=False)
            .first()
        )
        if backfill is None or backfill.next_date is None:
            return 0
        state = backfill.trigger
        flow = Flow.objects.live().filter(namespace=state.namespace, flow_id=state.flow_id).first()
        if flow is None:
            backfill.next_date = None
            backfill.save(update_fields=["next_date"])
            return 0
        schedule = state.schedule
        slots = list(
            islice(slots_between(schedule, backfill.next_date, backfill.end), SLOTS_PER_TICK)
        )
        started = 0
        for slot in slots:
            key = f"backfill:{backfill.pk}:{slot_key(slot)}"
            started += _slot_start(state, flow, schedule, slot, key=key, labels=backfill.labels)
        following = schedule.next_slot(slots[-1]) if slots else None
        backfill.next_date = following if following and following <= backfill.end else None
        backfill.processed += len(slots)
        backfill.save(update_fields=["next_date", "processed"])
    return started
