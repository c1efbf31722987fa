"""The reader's time zone and colour theme, settled once per request.

A page shows every time in its reader's zone: the one they chose on their Preferences
page, else the one their browser reports (base.html's script keeps it in the
``flowsite_tz`` cookie), else UTC. The choice is kept in the session for a minute, so
that a page costs no query for it; saving the Preferences page refreshes it at once.
"""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone

from .models import Preference

COOKIE = "flowsite_tz"
SESSION_KEY = "flowsite_preference"
DEFAULT_ZONE = "UTC"
# How long a session trusts its copy: a change made in another browser shows within this.
RECHECK_SECONDS = 60


@dataclass(frozen=True)
class Reading:
    """How this request's reader reads: ``source`` says where the zone came from
    ("preference", "browser" or "default")."""

    time_zone: str
    source: str
    theme: str
    browser_zone: str


@cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def valid_zone(name: str | None) -> str | None:
    """``name`` if it is a zone the server knows, else None: a cookie is the client's."""
    return name if name and name in known_zones() else None


def _preference(request: HttpRequest) -> tuple[str, str]:
    user = request.user
    if not user.is_authenticated:
        return "", ""
    kept: Any = request.session.get(SESSION_KEY)
    if (
        isinstance(kept, dict)
        and kept.get("user") == user.pk
        and 0 <= time.time() - kept.get("at", 0) < RECHECK_SECONDS
    ):
        return str(kept.get("time_zone", "")), str(kept.get("theme", ""))
    preference = Preference.objects.filter(user=user).first()
    return remember(request, preference)


def remember(request: HttpRequest, preference: Preference | None) -> tuple[str, str]:
    """Keeps the user's preference in their session; what it holds, as (zone, theme)."""
    time_zone = preference.time_zone if preference else ""
    theme = preference.theme if preference else ""
    request.session[SESSION_KEY] = {
        "user": request.user.pk,
        "time_zone": time_zone,
        "theme": theme,
        "at": time.time(),
    }
    return time_zone, theme


def reading_of(request: HttpRequest) -> Reading:
    chosen, theme = _preference(request)
    browser = valid_zone(request.COOKIES.get(COOKIE)) or ""
    if valid_zone(chosen):
        return Reading(chosen, "preference", theme, browser)
    if browser:
        return Reading(browser, "browser", theme, browser)
    return Reading(DEFAULT_ZONE, "default", theme, browser)


class ReaderTimeZoneMiddleware:
    """Activates the reader's time zone for the request; not for static files, nor under
    /api, where times are ISO instants and no page is drawn."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response
        self.skipped = ("/api/", "/" + settings.STATIC_URL.lstrip("/"))

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(self.skipped):
            return self.get_response(request)
        reading = reading_of(request)
        request.reading = reading  # type: ignore[attr-defined]
        timezone.activate(zoneinfo.ZoneInfo(reading.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
