"""The flows list, across namespaces (``/flows/``) or within one (the namespace page):
search, namespace and label filters, sortable columns, and each flow's last execution
and next scheduled date, read by subqueries of the page's one query, not per flow."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTransform
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from accounts.models import Role
from accounts.permissions import may, standing, visible
from executions.models import Execution
from flowsite.listing import Column, listing
from triggers.models import SCHEDULE, TriggerState

from .models import Flow

COLUMNS = [
    Column("Flow", "id"),
    Column("Namespace", "namespace"),
    Column("Description"),
    Column("Labels"),
    Column("Last execution", "last_run"),
    Column("Next trigger", "next_date"),
    Column("Revision", "revision"),
    Column("Updated", "updated"),
]
SORTS = {
    "id": ("flow_id", "namespace"),
    "namespace": ("namespace", "flow_id"),
    "last_run": ("last_run_at",),
    "next_date": ("next_date",),
    "revision": ("revision",),
    "updated": ("updated_at",),
}
LABEL_KEY = re.compile(r"[\w.\-/]{1,100}")


@dataclass
class FlowSearch:
    text: str = ""
    namespace: str = ""  # and its children
    labels: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def filtered(self) -> bool:
        return bool(self.text or self.namespace or self.labels)

    def apply(self, flows: QuerySet[Flow]) -> QuerySet[Flow]:
        if self.text:
            flows = flows.filter(
                Q(flow_id__icontains=self.text)
                | Q(namespace__icontains=self.text)
                | Q(description__icontains=self.text)
                | Q(labels__icontains=self.text)
            )
        if self.namespace:
            flows = flows.filter(
                Q(namespace=self.namespace) | Q(namespace__startswith=self.namespace + ".")
            )
        for index, (key, value) in enumerate(self.labels):
            alias = f"_label_{index}"
            flows = flows.alias(**{alias: KeyTransform(key, "labels")}).filter(**{alias: value})
        return flows


def flow_search(params: QueryDict) -> FlowSearch:
    search = FlowSearch(
        text=params.get("q", "").strip()[:200], namespace=params.get("namespace", "").strip()
    )
    for label in params.getlist("label"):
        key, colon, value = label.strip().partition(":")
        if colon and LABEL_KEY.fullmatch(key.strip()):
            search.labels.append((key.strip(), value.strip()))
        elif label.strip():
            search.errors.append(f"Label '{label[:60]}' must be written key:value")
    return search


def with_last_run_and_next_date(flows: QuerySet[Flow]) -> QuerySet[Flow]:
    """Each flow's newest execution (by the namespace, flow, -created_at index) and its
    enabled schedules' next date, as subqueries of the list's own query."""
    runs = Execution.objects.filter(
        namespace=OuterRef("namespace"), flow_id=OuterRef("flow_id")
    ).order_by("-created_at")
    schedules = TriggerState.objects.filter(
        namespace=OuterRef("namespace"),
        flow_id=OuterRef("flow_id"),
        type=SCHEDULE,
        disabled=False,
        declared_disabled=False,
        next_date__isnull=False,
    ).order_by("next_date")
    return flows.annotate(
        last_run_id=Subquery(runs.values("id")[:1]),
        last_run_state=Subquery(runs.values("state")[:1]),
        last_run_at=Subquery(runs.values("created_at")[:1]),
        next_date=Subquery(schedules.values("next_date")[:1]),
    )


def flows_context(request: HttpRequest, *, namespace: str = "") -> dict[str, Any]:
    """What ``flows/_list.html`` shows: ``namespace`` scopes the list to it."""
    search = flow_search(request.GET)
    flows = visible(Flow.objects.live(), request.user)
    if namespace:
        flows = flows.filter(namespace=namespace)
    flows = with_last_run_and_next_date(search.apply(flows))
    columns = [c for c in COLUMNS if not (namespace and c.key == "namespace")]
    page = listing(request.GET, flows, columns=columns, sorts=SORTS, default="id")
    may_create = may(request.user, Role.EDITOR, namespace) if namespace else None
    return {
        "listing": page,
        "search": search,
        "scope": namespace,
        "standing": standing(request.user),
        "may_create_here": may_create,
    }


@login_required
def flows_list(request: HttpRequest) -> HttpResponse:
    return render(request, "flows/list.html", flows_context(request))
