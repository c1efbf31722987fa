"""What the dashboard and the namespace and flow overviews show, over what a user may see:
executions per time bucket and state, their totals, recent failures, what runs now and
the next scheduled runs.

The executions of a period are counted in one GROUP BY (bucket, state); the buckets are
the reader's own minutes, hours or days (Django's Trunc in the active time zone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.permissions import role_on, visible
from executions.models import Execution, State
from flows.models import Flow
from flowsite.http import RequestUser
from triggers.models import SCHEDULE, TriggerState


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    span: timedelta
    bucket: str  # "5min", "hour" or "day"


PERIODS = {
    period.key: period
    for period in (
        Period("1h", "Last hour", timedelta(hours=1), "5min"),
        Period("24h", "Last 24 hours", timedelta(hours=24), "hour"),
        Period("7d", "Last 7 days", timedelta(days=7), "day"),
        Period("30d", "Last 30 days", timedelta(days=30), "day"),
    )
}
DEFAULT_PERIOD = PERIODS["7d"]

# Bottom to top in a bar, and the legend's order.
CHART_STATES = (
    State.SUCCESS,
    State.WARNING,
    State.FAILED,
    State.KILLED,
    State.CANCELLED,
    State.SKIPPED,
    State.RUNNING,
    State.KILLING,
    State.RETRYING,
    State.PAUSED,
    State.RESTARTED,
    State.QUEUED,
    State.CREATED,
)
FAILED_STATES = (State.FAILED, State.KILLED)
RUNNING_STATES = (
    State.CREATED,
    State.QUEUED,
    State.RUNNING,
    State.PAUSED,
    State.RETRYING,
    State.RESTARTED,
    State.KILLING,
)
ENDED_STATES = (
    State.SUCCESS,
    State.WARNING,
    State.FAILED,
    State.KILLED,
    State.CANCELLED,
    State.SKIPPED,
)
LIST_SIZE = 10


@dataclass(frozen=True)
class Scope:
    """Whose executions: a namespace with its children, or one flow; empty: all."""

    namespace: str = ""
    flow_id: str = ""

    def narrow(self, rows: QuerySet[Execution]) -> QuerySet[Execution]:
        if self.flow_id:
            return rows.filter(namespace=self.namespace, flow_id=self.flow_id)
        if self.namespace:
            return rows.filter(
                Q(namespace=self.namespace) | Q(namespace__startswith=self.namespace + ".")
            )
        return rows


@dataclass
class Bucket:
    start: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Overview:
    period: Period
    since: datetime
    buckets: list[Bucket]
    counts: dict[str, int]  # by state, over the period
    failures: list[Execution]
    running: list[Execution]
    running_count: int
    scheduled: list[TriggerState]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def ended(self) -> int:
        return sum(self.counts.get(state, 0) for state in ENDED_STATES)

    @property
    def success_rate(self) -> float | None:
        """The share of the ended executions that succeeded, in percent."""
        if not self.ended:
            return None
        return 100 * self.counts.get(State.SUCCESS, 0) / self.ended

    @property
    def state_counts(self) -> list[tuple[str, int]]:
        return [(state, self.counts[state]) for state in CHART_STATES if self.counts.get(state)]


def overview_build(
    *, user: RequestUser, scope: Scope, period: Period, now: datetime | None = None
) -> Overview:
    now = (now or timezone.now()).astimezone(UTC)  # the span in real time, not wall time
    since = now - period.span
    executions = scope.narrow(visible(Execution.objects.all(), user))
    buckets = executions_per_bucket(executions, period=period, since=since, now=now)
    counts: dict[str, int] = {}
    for bucket in buckets:
        for state, count in bucket.counts.items():
            counts[state] = counts.get(state, 0) + count
    running = executions.filter(state__in=RUNNING_STATES)
    return Overview(
        period=period,
        since=since,
        buckets=buckets,
        counts=counts,
        failures=list(
            executions.filter(state__in=FAILED_STATES, created_at__gte=since)
            .order_by("-created_at")
            .only("id", "namespace", "flow_id", "state", "created_at", "error")[:LIST_SIZE]
        ),
        running=list(
            running.order_by("-created_at").only(
                "id", "namespace", "flow_id", "state", "created_at", "started_at"
            )[:LIST_SIZE]
        ),
        running_count=running.count(),
        scheduled=schedules_next(user=user, scope=scope),
    )


def executions_per_bucket(
    executions: QuerySet[Execution], *, period: Period, since: datetime, now: datetime
) -> list[Bucket]:
    """Every bucket of the period, oldest first, with its count of executions by state
    (by creation time); empty buckets are there too."""
    buckets = [Bucket(start) for start in bucket_starts(period, since, now)]
    # A bucket's number by plain comparisons with the bounds, worked out here in the
    # reader's zone: no time zone function per row, the same SQL on every database.
    number = Case(
        *(
            When(created_at__lt=bucket.start, then=Value(index - 1))
            for index, bucket in enumerate(buckets)
            if index
        ),
        default=Value(len(buckets) - 1),
    )
    rows = (
        executions.filter(created_at__gte=since, created_at__lte=now)
        .annotate(bucket=number)
        .values("bucket", "state")
        .annotate(count=Count("id"))
        .order_by()
    )
    for row in rows:
        counts = buckets[row["bucket"]].counts
        counts[row["state"]] = counts.get(row["state"], 0) + row["count"]
    return buckets


def bucket_starts(period: Period, since: datetime, now: datetime) -> list[datetime]:
    """The buckets' starts in the reader's time zone, from the one holding ``since`` to
    the one holding ``now``."""
    first = _floor(timezone.localtime(since), period)
    if period.bucket == "day":
        days = (timezone.localtime(now).date() - first.date()).days
        zone = timezone.get_current_timezone()
        return [
            timezone.make_aware(datetime.combine(first.date() + timedelta(days=n), time.min), zone)
            for n in range(days + 1)
        ]
    step = timedelta(minutes=5) if period.bucket == "5min" else timedelta(hours=1)
    starts, moment = [], first.astimezone(UTC)  # stepped in UTC: a DST change is no trap
    while moment <= now:
        starts.append(timezone.localtime(moment))
        moment += step
    return starts


def _floor(moment: datetime, period: Period) -> datetime:
    if period.bucket == "day":
        return timezone.make_aware(datetime.combine(moment.date(), time.min), moment.tzinfo)
    if period.bucket == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def schedules_next(*, user: RequestUser, scope: Scope) -> list[TriggerState]:
    """The enabled Schedule triggers of live flows, soonest first."""
    triggers = visible(TriggerState.objects.all(), user).filter(
        type=SCHEDULE, disabled=False, declared_disabled=False, next_date__isnull=False
    )
    if scope.flow_id:
        triggers = triggers.filter(namespace=scope.namespace, flow_id=scope.flow_id)
    elif scope.namespace:
        triggers = triggers.filter(
            Q(namespace=scope.namespace) | Q(namespace__startswith=scope.namespace + ".")
        )
    return list(triggers.order_by("next_date")[:LIST_SIZE])


def namespaces_visible(user: RequestUser) -> list[str]:
    """The namespaces of the flows ``user`` may see, with those namespaces' parents that
    they may see too, for the namespace filter."""
    flows = visible(Flow.objects.live(), user).order_by()  # no flow_id in the DISTINCT
    leaves = set(flows.values_list("namespace", flat=True).distinct())
    every = set(leaves)
    for namespace in leaves:
        parts = namespace.split(".")
        every.update(".".join(parts[:n]) for n in range(1, len(parts)))
    return sorted(ns for ns in every if ns in leaves or role_on(user, ns) is not None)
