"""The page where a user manages their own API tokens, and only their own."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from flowsite.http import SignedInRequest
from flowsite.listing import Column, listing

from .audit import audit_record
from .models import ApiToken
from .tokens import LIFETIMES, token_create, token_revoke


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “CI deploys”")
    days = forms.TypedChoiceField(
        label="Expires in",
        coerce=int,
        choices=[(days, f"{days} days") for days in LIFETIMES],
        initial=30,
    )


TOKEN_COLUMNS = [
    Column("Name", "name"),
    Column("Token"),
    Column("Created", "created"),
    Column("Expires", "expires"),
    Column("Last used", "used"),
    Column(""),
]
TOKEN_SORTS = {
    "name": ("name",),
    "created": ("created_at",),
    "expires": ("expires_at",),
    "used": ("last_used_at",),
}


def _render(
    request: SignedInRequest, form: TokenForm, *, new_token: str = "", status: int = 200
) -> HttpResponse:
    tokens = ApiToken.objects.filter(user=request.user)
    page = listing(
        request.GET, tokens, columns=TOKEN_COLUMNS, sorts=TOKEN_SORTS, default="-created"
    )
    context: dict[str, Any] = {
        "form": form,
        "new_token": new_token,
        "now": timezone.now(),
        "listing": page,
        "tokens": page.page,
    }
    template = "accounts/_tokens.html" if request.htmx else "accounts/tokens.html"
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@never_cache  # the answer to a creation holds the plain token
def my_tokens(request: SignedInRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request, TokenForm())
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=422)
    token, raw = token_create(user=request.user, **form.cleaned_data)
    audit_record(
        actor=request.user, action="created", namespace="", object_type="token",
        object_id=token.prefix, summary=f"{token.name}, expires {token.expires_at:%Y-%m-%d}",
    )  # fmt: skip
    # Shown in this answer only: a redirect would have to keep it somewhere to show it.
    return _render(request, TokenForm(), new_token=raw)


@login_required
@require_POST
def my_token_revoke(request: SignedInRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if token_revoke(token=token):
        audit_record(
            actor=request.user, action="revoked", namespace="", object_type="token",
            object_id=token.prefix, summary=token.name,
        )  # fmt: skip
    return _render(request, TokenForm()) if request.htmx else redirect("tokens")
