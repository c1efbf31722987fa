"""The project's URLs plus one view that fails: only tests route here (override_settings)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from flowsite.urls import urlpatterns as project_urlpatterns


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


urlpatterns = [path("broken/", broken), *project_urlpatterns]
