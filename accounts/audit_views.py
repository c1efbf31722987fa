"""The audit log: every namespace's for superusers (``/audit/``), and each namespace's
for its Admins. Each entry links to what it names, where that has a page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse

from flowsite.listing import Column, Listing, listing, period

from .access import namespace_for_user
from .access_views import superuser_required
from .models import AuditEntry, Role, Team

COLUMNS = [
    Column("When", "when"),
    Column("Who", "actor"),
    Column("Did", "action"),
    Column("What"),
    Column("Namespace", "namespace"),
    Column("Details"),
]
SORTS = {
    "when": ("timestamp",),
    "actor": ("actor_name", "timestamp"),
    "action": ("action", "timestamp"),
    "namespace": ("namespace", "timestamp"),
}


def _within(namespace: str) -> Q:
    return Q(namespace=namespace) | Q(namespace__startswith=namespace + ".")


def _filtered(
    entries: QuerySet[AuditEntry], params: QueryDict
) -> tuple[QuerySet[AuditEntry], list[str]]:
    if namespace := params.get("namespace", "").strip():
        entries = entries.filter(_within(namespace))
    if actor := params.get("actor", "").strip():
        entries = entries.filter(actor_name__iexact=actor)
    if action := params.get("action", "").strip():
        entries = entries.filter(action__iexact=action)
    when = period(params)
    if when.start is not None:
        entries = entries.filter(timestamp__gte=when.start)
    if when.end is not None:
        entries = entries.filter(timestamp__lt=when.end)
    return entries, when.errors


def _link_entries(page: Listing) -> None:
    """``entry.link``: the page of what the entry names, if it has one. Teams are named
    by their name: one query finds the ids of those on the page."""
    entries: list[Any] = list(page.page.object_list)
    names = {e.object_id for e in entries if e.object_type == "team"}
    teams = dict(Team.objects.filter(name__in=names).values_list("name", "id")) if names else {}
    for entry in entries:
        entry.link = ""
        if entry.object_type == "execution":
            entry.link = reverse("execution", args=[entry.object_id])
        elif entry.object_type == "flow" and entry.namespace:
            entry.link = reverse("flow", args=[entry.namespace, entry.object_id])
        elif entry.object_type == "team" and entry.object_id in teams:
            entry.link = reverse("team", args=[teams[entry.object_id]])
        elif entry.object_type == "user":
            entry.link = reverse("users")
    page.page.object_list = entries


def _audit_page(
    request: HttpRequest, entries: QuerySet[AuditEntry], **context: Any
) -> HttpResponse:
    entries, errors = _filtered(entries, request.GET)
    page = listing(request.GET, entries, columns=COLUMNS, sorts=SORTS, default="-when")
    _link_entries(page)
    filtered = any(
        request.GET.get(name) for name in ("namespace", "actor", "action", "period", "from", "to")
    )
    context.update(listing=page, errors=errors, filtered=filtered, periods=["hour", "day", "week"])
    return render(request, "accounts/audit.html", context)


@superuser_required
def audit(request: HttpRequest) -> HttpResponse:
    return _audit_page(request, AuditEntry.objects.all(), namespace="")


@login_required
def namespace_audit(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    # A namespace's log covers its children, as its role bindings do.
    return _audit_page(request, AuditEntry.objects.filter(_within(namespace)), namespace=namespace)
