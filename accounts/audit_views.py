"""Each namespace's audit log, for its Admins."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .access import namespace_for_user
from .models import AuditEntry, Role


@login_required
def namespace_audit(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    # A namespace's log covers its children, as its role bindings do.
    entries = AuditEntry.objects.filter(
        Q(namespace=namespace) | Q(namespace__startswith=namespace + ".")
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/audit.html", {"namespace": namespace, "page": page})
