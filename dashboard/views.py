from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from accounts.permissions import role_on, standing, visible
from executions.models import Execution
from flows.language.values import NAMESPACE_PATTERN
from flows.models import Flow
from flowsite.http import SignedInRequest

from .overview import overview_context, period_read
from .stats import Scope, namespaces_visible


@login_required
def home(request: SignedInRequest) -> HttpResponse:
    """The dashboard: every namespace the user may see, or the one they chose."""
    user = request.user
    period, problems = period_read(request.GET)
    namespace = request.GET.get("namespace", "").strip()
    if namespace and (
        not re.fullmatch(NAMESPACE_PATTERN, namespace) or role_on(user, namespace) is None
    ):
        problems.append(f"No namespace {namespace[:150]} that you may see: showing all of them.")
        namespace = ""
    sees_anything = (
        visible(Flow.objects.live(), user).exists()
        or visible(Execution.objects.all(), user).exists()
    )
    context = {
        "empty": not sees_anything,
        "standing": standing(user),
        "namespaces": sorted({*namespaces_visible(user), namespace} - {""}),
        "namespace": namespace,
        **overview_context(user=user, scope=Scope(namespace=namespace), period=period),
        "problems": problems,
    }
    return render(request, "dashboard/home.html", context)
