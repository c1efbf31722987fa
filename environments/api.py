"""The Python environments through the REST API: ``/api/v1/environments``, a Flowsite
extension (Kestra has no such endpoint). Superusers only, as on the page."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from accounts.audit import audit_environment_removed
from flowsite.api import api_error, api_view
from flowsite.query_filters import FilterInvalid, paged
from flowsite.rows import row_or_none
from flowsite.values import format_instant

from .listing import LIVE, environments_in
from .models import PythonEnvironment
from .retire import environment_retire

State = PythonEnvironment.State
ONLY_SUPERUSERS = "Python environments are shown to superusers only"


def environment_json(environment: PythonEnvironment) -> dict[str, Any]:
    def instant(moment: Any) -> str | None:
        return format_instant(moment) if moment is not None else None

    return {
        "key": environment.key,
        "runner": environment.runner,
        "place": environment.place,
        "placeLabel": environment.place_label,
        "image": environment.image,
        "platform": environment.platform,
        "installer": environment.installer,
        "requested": environment.requested,
        "packages": environment.packages,
        "pythonVersion": environment.python_version,
        "state": environment.state,
        "error": environment.error,
        "sizeBytes": environment.size_bytes,
        "runsServed": environment.runs_served,
        "createdAt": instant(environment.created_at),
        "builtAt": instant(environment.built_at),
        "lastUsedAt": instant(environment.last_used_at),
    }


def _superusers_only(request: HttpRequest) -> None:
    # Like Teams and Users: to anyone else they do not exist.
    if not request.user.is_superuser:
        raise Http404(ONLY_SUPERUSERS)


@api_view(("GET",))
def environments_list(request: HttpRequest) -> HttpResponse:
    """The Python environments, the most recently used first: the live ones (READY and
    BUILDING), or those in the ``state`` asked for (repeated for several)."""
    _superusers_only(request)
    states = request.GET.getlist("state") or LIVE
    unknown = sorted(set(states) - set(State.values))
    if unknown:
        return api_error(400, f"state must be one of {', '.join(State)}, not {', '.join(unknown)}")
    try:
        found, total = paged(environments_in(states), request)
    except FilterInvalid as exc:
        return api_error(400, str(exc))
    return JsonResponse({"results": [environment_json(e) for e in found], "total": total})


@api_view(("GET", "DELETE"))
def environment_item(request: HttpRequest, key: str) -> HttpResponse:
    """One Python environment by its key; DELETE removes it (204): no new run uses it, and
    a worker of its engine or host deletes its files."""
    _superusers_only(request)
    environment = row_or_none(PythonEnvironment.objects.all(), key=key)
    if environment is None:
        raise Http404(f"No Python environment has the key '{key}'")
    if request.method == "GET":
        return JsonResponse(environment_json(environment))
    if environment_retire(environment):
        audit_environment_removed(actor=request.user, environment=environment)
    return HttpResponse(status=204)
