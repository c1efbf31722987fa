"""The security headers, and the settings of production mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import ROOT


def test_every_page_carries_the_security_headers(client: Client) -> None:
    response = client.get("/login/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def settings_in_subprocess(
    tmp_path: Path, code: str, **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSITE_", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings as s; {code}"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "flowsite.settings", "FLOWSITE_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
    )  # fmt: skip


SECURITY = (
    "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
    "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_CONTENT_TYPE_NOSNIFF, "
    "s.SECURE_REFERRER_POLICY, s.X_FRAME_OPTIONS)"
)


def test_production_mode_switches_on_secure_cookies_hsts_and_the_https_redirect(
    tmp_path: Path,
) -> None:
    result = settings_in_subprocess(tmp_path, SECURITY, FLOWSITE_PRODUCTION="true")

    assert result.stdout.split() == [
        "True", "True", "True", "True", "31536000", "True", "same-origin", "DENY",
    ]  # fmt: skip


def test_a_laptop_install_keeps_plain_http_cookies(tmp_path: Path) -> None:
    result = settings_in_subprocess(tmp_path, SECURITY)

    assert result.stdout.split() == [
        "False", "False", "True", "False", "0", "True", "same-origin", "DENY",
    ]  # fmt: skip


def test_failed_logins_are_counted_where_every_process_sees_them(tmp_path: Path) -> None:
    code = "print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'])"

    embedded = settings_in_subprocess(tmp_path, code)
    team = settings_in_subprocess(tmp_path, code, REDIS_URL="redis://127.0.0.1:6379/3")

    assert embedded.stdout.split() == [
        "django.core.cache.backends.filebased.FileBasedCache",
        str(tmp_path / "cache"),
    ]
    assert team.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6379/3",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FLOWSITE_LOGIN_LOCK_AFTER": "ten"}, "FLOWSITE_LOGIN_LOCK_AFTER='ten' is not a whole number"),
        ({"FLOWSITE_LOGIN_SLOW_AFTER": "20"}, "FLOWSITE_LOGIN_SLOW_AFTER=20 must be at least 1 and at most FLOWSITE_LOGIN_LOCK_AFTER=10"),
        ({"FLOWSITE_LOGIN_LOCK_MINUTES": "0"}, "FLOWSITE_LOGIN_LOCK_MINUTES=0 must be at least 1"),
        ({"FLOWSITE_PRODUCTION": "true", "FLOWSITE_HSTS_SECONDS": "-1"}, "FLOWSITE_HSTS_SECONDS=-1 must be at least 0"),
    ],
)  # fmt: skip
def test_a_bad_login_or_security_setting_stops_start_up(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = settings_in_subprocess(tmp_path, "pass", **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
