"""The request types views are written against, so that the type checker knows what the
middleware added (django-htmx's ``request.htmx``) and whom a signed-in view serves."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

# What ``request.user`` holds: a signed-in user, or the anonymous one.
RequestUser = User | AnonymousUser


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent ``request`` (django-htmx's middleware reads its headers)."""
    return bool(getattr(request, "htmx", False))


class SignedInRequest(HtmxHttpRequest):
    """A request to a view behind ``@login_required``: its user is a real User."""

    user: User
