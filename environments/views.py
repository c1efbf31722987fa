"""The Python environments page: what each engine or host keeps installed, how much room
it takes beside the cap, and a Remove button. Superusers only, like Teams and Users."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Max, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.access_views import superuser_required
from accounts.audit import audit_environment_removed
from flowsite.http import SignedInRequest

from .listing import LIVE, environments_in
from .models import PythonEnvironment
from .retire import environment_retire

State = PythonEnvironment.State
# The page's filter: "" shows the live ones, the rest one state or every environment.
SHOWN = {"": LIVE, "RETIRED": (State.RETIRED,), "FAILED": (State.FAILED,), "all": tuple(State)}


def _shown(request: SignedInRequest) -> str:
    shown = request.GET.get("state", request.POST.get("state", ""))
    return shown if shown in SHOWN else ""


def _places() -> list[dict[str, Any]]:
    """Each engine or host's READY environments, counted and summed as the cap counts them
    (environments/retire.py: environments_over_cap)."""
    cap = settings.FLOWSITE_PYTHON_ENV_CACHE_BYTES
    places = (
        PythonEnvironment.objects.filter(state=State.READY)
        .values("place", "runner")
        .annotate(label=Max("place_label"), count=Count("pk"), total=Sum("size_bytes"))
        .order_by("runner", "place")
    )
    return [{**place, "over_cap": bool(cap) and place["total"] > cap} for place in places]


def _render(request: SignedInRequest) -> HttpResponse:
    shown = _shown(request)
    context = {
        "environments": environments_in(SHOWN[shown]),
        "places": _places(),
        "cap": settings.FLOWSITE_PYTHON_ENV_CACHE_BYTES,
        "shown": shown,
        "choices": [("", "Live"), ("RETIRED", "Retired"), ("FAILED", "Failed"), ("all", "All")],
    }
    template = "environments/_environments.html" if request.htmx else "environments/page.html"
    return render(request, template, context)


@superuser_required
@require_GET
def environments(request: SignedInRequest) -> HttpResponse:
    return _render(request)


@superuser_required
@require_POST
def environment_remove(request: SignedInRequest, key: str) -> HttpResponse:
    environment = get_object_or_404(PythonEnvironment, key=key)
    if environment_retire(environment):
        audit_environment_removed(actor=request.user, environment=environment)
        where = environment.place_label or environment.place
        messages.success(
            request, f"Removed the environment {environment}: its files go from {where} shortly."
        )
    else:
        environment.refresh_from_db()
        was = "was already removed" if environment.state == State.RETIRED else "failed to build"
        messages.info(request, f"The environment {environment} {was}: nothing to remove.")
    if request.htmx:
        return _render(request)
    shown = _shown(request)
    return redirect(reverse("environments") + (f"?state={shown}" if shown else ""))
