"""Logging in: a throttle of its own for each test, and shorthands to log in and read
the answer."""

from __future__ import annotations

import html
import uuid
from typing import Any

import pytest
from django.test import Client

from tests.personas import PASSWORD

LOCKED = "Too many failed logins for this account; try again in 15 minutes"


@pytest.fixture(autouse=True)
def throttle(settings: Any) -> Any:
    """A cache of this test's own, and a throttle that acts after a few failures."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"login-{uuid.uuid4()}",
        }
    }
    settings.FLOWSITE_LOGIN_SLOW_AFTER = 2
    settings.FLOWSITE_LOGIN_LOCK_AFTER = 4
    settings.FLOWSITE_LOGIN_LOCK_MINUTES = 15
    settings.FLOWSITE_LOGIN_SLOW_SECONDS = 0
    return settings


def log_in(client: Client, username: str = "alice", password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/login/", {"username": username, "password": password}, **extra)


def page(response: Any) -> str:
    return html.unescape(response.content.decode())


def is_logged_in(client: Client) -> bool:
    return client.get("/namespaces/").status_code == 200
