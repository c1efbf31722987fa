"""The Triggers section of the flow page: list, enable or disable, backfill."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.access import flow_for_user, trigger_for_user
from accounts.audit import audit_trigger_changed
from accounts.models import Role
from accounts.permissions import abilities
from flows.language.triggers import FlowTrigger
from flows.models import Flow
from flowsite.http import is_htmx

from .clock import BackfillInvalid, backfill_create
from .flow_triggers import flow_trigger_refusals
from .models import TriggerState


def triggers_context(
    flow: Flow, user: Any, *, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """What ``triggers/_triggers.html`` needs, for the flow page and the htmx answers;
    ``errors`` holds a refused backfill's messages, by trigger id."""
    states = list(
        TriggerState.objects.filter(
            namespace=flow.namespace, flow_id=flow.flow_id
        ).prefetch_related("backfills")
    )
    rows: list[dict[str, Any]] = [
        {
            "state": s,
            "trigger": s.trigger,
            "backfills": list(s.backfills.all())[:5],
            "errors": (errors or {}).get(s.trigger_id, []),
            "refusals": flow_trigger_refusals(flow.namespace, s.trigger)
            if isinstance(s.trigger, FlowTrigger)
            else [],
        }
        for s in states
    ]
    return {
        "flow": flow,
        "rows": rows,
        "can": abilities(user, flow.namespace),
        "backfilling": any(not b.is_done for row in rows for b in row["backfills"]),
    }


def _section(
    request: HttpRequest, flow: Flow, *, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    """The section for htmx; a plain form post goes back to the flow page, unless it was
    refused, when the section shows why."""
    if not is_htmx(request) and request.method == "POST" and not errors:
        return redirect(flow.get_absolute_url())
    context = triggers_context(flow, request.user, errors=errors)
    return render(request, "triggers/_triggers.html", context, status=422 if errors else 200)


@login_required
@require_GET
def flow_triggers(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    """The section alone: the page polls it while a backfill runs."""
    return _section(request, flow_for_user(request.user, namespace, flow_id))


@login_required
@require_POST
def trigger_toggle(
    request: HttpRequest, namespace: str, flow_id: str, trigger_id: str
) -> HttpResponse:
    flow, state = trigger_for_user(request.user, namespace, flow_id, trigger_id, need=Role.EDITOR)
    wanted = request.POST.get("disabled")
    state.set_disabled(not state.disabled if wanted is None else wanted in ("1", "true"))
    audit_trigger_changed(
        actor=request.user,
        namespace=namespace,
        flow_id=flow_id,
        trigger_id=trigger_id,
        action="disabled" if state.disabled else "enabled",
    )
    return _section(request, flow)


class BackfillForm(forms.Form):
    start = forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    end = forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    labels = forms.CharField(
        required=False, widget=forms.Textarea, help_text="One key=value per line"
    )

    def clean_labels(self) -> dict[str, str]:
        labels = {}
        for number, line in enumerate(self.cleaned_data["labels"].splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"Line {number}: write a label as key=value")
            labels[key.strip()] = value.strip()
        return labels


@login_required
@require_POST
def trigger_backfill(
    request: HttpRequest, namespace: str, flow_id: str, trigger_id: str
) -> HttpResponse:
    """Run the schedule's slots between two dates, read in the trigger's time zone."""
    flow, state = trigger_for_user(request.user, namespace, flow_id, trigger_id, need=Role.EDITOR)
    form = BackfillForm(request.POST)
    errors = [f"{name}: {m}" for name, ms in form.errors.items() for m in ms]
    if form.is_valid():
        zone = zoneinfo.ZoneInfo(state.schedule.timezone) if state.is_schedule else None
        try:
            backfill_create(
                state=state,
                start=_in_zone(form.cleaned_data["start"], zone),
                end=_in_zone(form.cleaned_data["end"], zone),
                labels=form.cleaned_data["labels"],
                user=request.user,
                now=timezone.now(),
            )
            audit_trigger_changed(
                actor=request.user,
                namespace=namespace,
                flow_id=flow_id,
                trigger_id=trigger_id,
                action="backfilled",
                summary=f"{form.cleaned_data['start']:%Y-%m-%d %H:%M} to "
                f"{form.cleaned_data['end']:%Y-%m-%d %H:%M}",
            )
        except BackfillInvalid as exc:
            errors = [str(exc)]
    return _section(request, flow, errors={trigger_id: errors} if errors else None)


def _in_zone(value: datetime, zone: zoneinfo.ZoneInfo | None) -> datetime:
    """The form's dates carry no zone: they are wall-clock times in the trigger's zone."""
    naive = timezone.make_naive(value) if timezone.is_aware(value) else value
    return naive.replace(tzinfo=zone or zoneinfo.ZoneInfo("UTC"))
