"""The KV store page of a namespace: its entries (type, value, description, expiry),
a form to set one, and a button to delete one. Editors see and change it, as through
the API; an expired entry is not shown. The table and form are one htmx partial."""

from __future__ import annotations

import contextlib

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import namespace_for_user

from .kv import KVError, kv_delete, kv_keys, kv_set, kv_text, kv_value
from .kv_api import KV_ROLE
from .kv_forms import KVForm


def _render(
    request: HttpRequest, namespace: str, form: KVForm | None = None, status: int = 200
) -> HttpResponse:
    entries = [(entry, kv_text(entry)) for entry in kv_keys(namespace)]
    template = "namespaces/_kv.html" if request.headers.get("HX-Request") else "namespaces/kv.html"
    context = {"namespace": namespace, "entries": entries, "form": form or KVForm()}
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def namespace_kv(request: HttpRequest, namespace: str) -> HttpResponse:
    """The page (GET; ``?edit=key`` fills the form with that entry); setting a key (POST)."""
    namespace_for_user(request.user, namespace, need=KV_ROLE)
    if request.method == "GET":
        form = None
        if key := request.GET.get("edit"):
            try:
                entry = kv_value(namespace, key)
            except KVError:
                entry = None
            if entry is not None:
                initial = {"key": entry.key, "type": entry.type, "value": kv_text(entry)}
                form = KVForm(initial={**initial, "description": entry.description})
        return _render(request, namespace, form)
    form = KVForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            kv_set(
                namespace=namespace,
                key=data["key"],
                typed=data["typed"],
                ttl=data["ttl"],
                description=data["description"],
                user=request.user,
            )
        except KVError as exc:
            form.add_error(None, str(exc))
    if form.errors:
        return _render(request, namespace, form, status=422)
    if request.headers.get("HX-Request"):
        return _render(request, namespace)
    return redirect("namespace_kv", namespace)


@login_required
@require_POST
def kv_entry_delete(request: HttpRequest, namespace: str, key: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=KV_ROLE)
    with contextlib.suppress(KVError):  # a key that cannot exist is already gone
        kv_delete(namespace, key, user=request.user)
    if request.headers.get("HX-Request"):
        return _render(request, namespace)
    return redirect("namespace_kv", namespace)
