"""The logs page: log lines across the executions one may see, newest first.

There may be millions of lines, so pages go by id (``before=<id>``), never by offset,
and each page looks at most ``SCAN_WINDOW`` lines back: the filters, the text search
(a scan) among them, run inside that range of the primary key. When a window holds
fewer matches than a page, the page says which lines it searched and links to the
window before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from accounts.permissions import standing, visible
from flowsite.listing import PERIODS, Period, kept_params, period

from .api_json import KESTRA_LOG_LEVELS
from .models import LogLine

PAGE_SIZE = 100
SCAN_WINDOW = 100_000


@dataclass
class LogSearch:
    text: str = ""
    level: str = ""  # the minimum level, as Kestra's minLevel
    namespace: str = ""  # and its children
    flow_id: str = ""
    period: Period = field(default_factory=Period)
    before: int | None = None  # keyset: only lines older than this id
    errors: list[str] = field(default_factory=list)

    @property
    def filtered(self) -> bool:
        return bool(self.text or self.level or self.namespace or self.flow_id or self.period.given)

    def apply(self, lines: QuerySet[LogLine]) -> QuerySet[LogLine]:
        if self.level:
            lines = lines.filter(level__in=KESTRA_LOG_LEVELS[KESTRA_LOG_LEVELS.index(self.level) :])
        if self.namespace:
            lines = lines.filter(
                Q(execution__namespace=self.namespace)
                | Q(execution__namespace__startswith=self.namespace + ".")
            )
        if self.flow_id:
            lines = lines.filter(execution__flow_id=self.flow_id)
        if self.period.start is not None:
            lines = lines.filter(timestamp__gte=self.period.start)
        if self.period.end is not None:
            lines = lines.filter(timestamp__lt=self.period.end)
        if self.text:
            lines = lines.filter(message__icontains=self.text)
        return lines


def log_search(params: QueryDict) -> LogSearch:
    search = LogSearch(
        text=params.get("q", "").strip()[:200],
        namespace=params.get("namespace", "").strip(),
        flow_id=params.get("flow", "").strip(),
        period=period(params),
    )
    search.errors += search.period.errors
    level = params.get("level", "").strip().upper()
    if level in KESTRA_LOG_LEVELS:
        search.level = level
    elif level:
        search.errors.append(f"Level '{level[:20]}' must be one of {', '.join(KESTRA_LOG_LEVELS)}")
    before = params.get("before", "").strip()
    if before.isdigit() and len(before) < 19:
        search.before = int(before)
    elif before:
        search.errors.append(f"'{before[:20]}' is not a line's id: showing the newest lines")
    return search


def _newest_id() -> int:
    return LogLine.objects.order_by("-id").values_list("id", flat=True).first() or 0


@login_required
def logs(request: HttpRequest) -> HttpResponse:
    search = log_search(request.GET)
    upper = search.before if search.before is not None else _newest_id() + 1
    lower = max(upper - SCAN_WINDOW, 0)
    lines = visible(LogLine.objects.all(), request.user, field="execution__namespace")
    lines = search.apply(lines.filter(id__lt=upper, id__gte=lower))
    shown = list(
        lines.select_related("execution")
        .only(
            "id", "task_id", "level", "timestamp", "message",
            "execution__id", "execution__namespace", "execution__flow_id",
        )
        .order_by("-id")[: PAGE_SIZE + 1]
    )  # fmt: skip
    params = kept_params(request.GET)
    params.pop("before", None)
    context: dict[str, Any] = {
        "lines": shown[:PAGE_SIZE],
        "search": search,
        "levels": KESTRA_LOG_LEVELS,
        "periods": list(PERIODS),
        "scan_window": f"{SCAN_WINDOW:,}",
        "standing": standing(request.user),
        "newest_url": "?" + params.urlencode(),
        "window": (lower, upper),
        "next_url": "",
        "further_url": "",
    }
    if len(shown) > PAGE_SIZE:
        params["before"] = str(shown[PAGE_SIZE - 1].id)
        context["next_url"] = "?" + params.urlencode()
    elif lower > 0:  # the window ended before the first line: offer the one before it
        params["before"] = str(lower)
        context["further_url"] = "?" + params.urlencode()
    return render(request, "executions/logs.html", context)
