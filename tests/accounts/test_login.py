"""Logging in and out, changing a password, the throttle on failed logins, CSRF, and the
security settings of production mode."""

from __future__ import annotations

import html
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from executions.models import Execution
from flows.models import Flow
from tests.conftest import basic_auth
from tests.personas import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
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


# --- Logging in and out -----------------------------------------------------------------


def test_a_user_logs_in_with_the_right_password_and_out_again(alice: Any, client: Client) -> None:
    response = log_in(client)
    assert response.status_code == 302 and response["Location"] == "/"
    assert is_logged_in(client)

    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert not is_logged_in(client)


def test_the_login_page_sends_the_user_back_where_they_were_going(
    alice: Any, client: Client
) -> None:
    redirect = client.get("/executions/")
    assert redirect["Location"] == "/login/?next=/executions/"

    response = client.post(
        "/login/", {"username": "alice", "password": PASSWORD, "next": "/executions/"}
    )
    assert response["Location"] == "/executions/"


def test_a_wrong_password_is_refused_and_says_so(alice: Any, client: Client) -> None:
    response = log_in(client, password="wrong")

    assert response.status_code == 200
    assert "Your username and password didn't match" in page(response)
    assert not is_logged_in(client)


def test_logging_out_needs_a_post(alice: Any, client: Client) -> None:
    client.force_login(alice)

    assert client.get("/logout/").status_code == 405
    assert is_logged_in(client)


def test_the_header_links_to_the_password_page(alice: Any, client: Client) -> None:
    client.force_login(alice)

    assert 'href="/password/"' in client.get("/namespaces/").content.decode()


# --- Throttling failed logins -----------------------------------------------------------


def test_after_a_few_failures_every_attempt_is_slowed_even_the_right_one(
    alice: Any, client: Client, throttle: Any
) -> None:
    throttle.FLOWSITE_LOGIN_SLOW_SECONDS = 1.5
    for _ in range(2):
        started = time.monotonic()
        log_in(client, password="wrong")
        assert time.monotonic() - started < 1.5  # the first failures are answered at once

    started = time.monotonic()
    response = log_in(client)

    assert time.monotonic() - started >= 1.5
    assert response.status_code == 302 and is_logged_in(client)


def test_after_too_many_failures_even_the_right_password_is_refused(
    alice: Any, client: Client
) -> None:
    for _ in range(3):
        assert "didn't match" in page(log_in(client, password="wrong"))
    assert LOCKED in page(log_in(client, password="wrong"))

    response = log_in(client)

    assert response.status_code == 200
    assert LOCKED in page(response)
    assert not is_logged_in(client)


def test_the_lock_lifts_when_its_minutes_have_passed(
    alice: Any, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(4):
        log_in(client, password="wrong")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 14 * 60)
    assert "try again in 1 minute" in page(log_in(client))

    monkeypatch.setattr(time, "time", lambda: now + 15 * 60 + 1)
    assert log_in(client).status_code == 302
    assert is_logged_in(client)


def test_an_account_is_locked_whatever_address_the_guesses_come_from(
    alice: Any, bob: Any, client: Client
) -> None:
    for n in range(4):
        log_in(client, password="wrong", REMOTE_ADDR=f"192.0.2.{n}")

    assert LOCKED in page(log_in(client, REMOTE_ADDR="198.51.100.7"))
    assert log_in(client, "bob", REMOTE_ADDR="198.51.100.7").status_code == 302


def test_an_address_that_guessed_too_often_is_refused_for_every_account(
    alice: Any, bob: Any, charlie: Any, client: Client
) -> None:
    for username in ("alice", "bob", "charlie", "nobody"):
        log_in(client, username, "wrong", REMOTE_ADDR="192.0.2.1")

    refused = log_in(client, "charlie", REMOTE_ADDR="192.0.2.1")
    assert "Too many failed logins for your address; try again in 15 minutes" in page(refused)
    assert log_in(client, "charlie", REMOTE_ADDR="192.0.2.2").status_code == 302


def test_behind_a_proxy_the_address_it_passes_on_is_counted(
    alice: Any, client: Client, throttle: Any
) -> None:
    throttle.FLOWSITE_CLIENT_IP_HEADER = "X-Forwarded-For"
    for username in ("bob", "charlie", "dave", "erin"):  # one guesser, behind the proxy
        log_in(client, username, "wrong", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.1")

    # Everyone else comes through the same proxy, and is not refused.
    assert log_in(client, HTTP_X_FORWARDED_FOR="192.0.2.2").status_code == 302
    refused = log_in(client, HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert "for your address" in page(refused)


def test_a_successful_login_forgets_the_accounts_failures(alice: Any, client: Client) -> None:
    for _ in range(3):
        log_in(client, password="wrong", REMOTE_ADDR="192.0.2.1")
    assert log_in(client, REMOTE_ADDR="192.0.2.2").status_code == 302
    client.post("/logout/")

    for _ in range(3):
        response = log_in(client, password="wrong", REMOTE_ADDR="192.0.2.3")
        assert "didn't match" in page(response)
    assert log_in(client, REMOTE_ADDR="192.0.2.3").status_code == 302


def test_the_api_refuses_basic_auth_with_429_after_too_many_failures(
    alice: Any, client: Client
) -> None:
    for _ in range(3):
        response = client.get("/api/v1/flows/dev/x", HTTP_AUTHORIZATION=basic_auth(password="x"))
        assert response.status_code == 401

    assert (
        client.get("/api/v1/flows/dev/x", HTTP_AUTHORIZATION=basic_auth(password="x")).status_code
        == 429
    )
    response = client.get("/api/v1/flows/dev/x", HTTP_AUTHORIZATION=basic_auth())

    assert response.status_code == 429
    assert response.json()["message"] == LOCKED
    assert 14 * 60 < int(response["Retry-After"]) <= 15 * 60


def test_failures_on_the_login_page_and_the_api_count_together(alice: Any, client: Client) -> None:
    for _ in range(2):
        log_in(client, password="wrong")
        client.get("/api/v1/flows/dev/x", HTTP_AUTHORIZATION=basic_auth(password="x"))

    assert LOCKED in page(log_in(client))
    response = client.get("/api/v1/flows/dev/x", HTTP_AUTHORIZATION=basic_auth())
    assert response.status_code == 429


def test_a_lock_counted_in_the_configured_cache_holds_in_another_process(
    db: Any, client: Client, settings: Any
) -> None:
    # The file cache on a laptop, Redis for a team: a second server must see the lock.
    from flowsite import settings as configured

    settings.CACHES = configured.CACHES
    username, address = f"guesser-{uuid.uuid4().hex}", f"2001:db8::{uuid.uuid4().hex[:4]}"
    for _ in range(4):
        log_in(client, username, "wrong", REMOTE_ADDR=address)

    elsewhere = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); "
         "from django.test import RequestFactory; from accounts.login import authenticate_throttled; "
         f"authenticate_throttled(RequestFactory().get('/'), username={username!r}, password='x')"],
        cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "flowsite.settings"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert "LoginRefused: Too many failed logins for this account" in elsewhere.stderr


# --- Changing a password ----------------------------------------------------------------


def test_the_password_page_needs_a_login(client: Client) -> None:
    response = client.get("/password/")

    assert response.status_code == 302 and response["Location"] == "/login/?next=/password/"


def test_a_user_changes_their_password_and_stays_logged_in(alice: Any, client: Client) -> None:
    elsewhere = Client()
    log_in(client)
    log_in(elsewhere)

    response = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": "a new long secret", "new_password2": "a new long secret"},
        follow=True,
    )  # fmt: skip

    assert "Your password is changed" in page(response)
    assert is_logged_in(client)
    assert not is_logged_in(elsewhere)  # the other browser's session ended
    assert log_in(Client(), password=PASSWORD).status_code == 200
    assert log_in(Client(), password="a new long secret").status_code == 302


def test_a_password_change_needs_the_old_password(alice: Any, client: Client) -> None:
    client.force_login(alice)

    response = client.post(
        "/password/",
        {"old_password": "wrong", "new_password1": "a new long secret", "new_password2": "a new long secret"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in page(response)
    assert log_in(Client()).status_code == 302


# --- CSRF -------------------------------------------------------------------------------


@pytest.fixture
def hello(alice: Any) -> Flow:
    return Flow.save_source(
        "id: hello\nnamespace: dev\ntasks:\n  - id: a\n    type: Log\n    message: hi\n"
    )


def test_a_post_without_the_csrf_token_is_refused(alice: Any, hello: Flow) -> None:
    browser = Client(enforce_csrf_checks=True)
    assert log_in(browser).status_code == 403

    browser.force_login(alice)
    assert browser.post("/flows/dev/hello/run/").status_code == 403
    assert browser.post("/logout/").status_code == 403
    assert not Execution.objects.exists()
    assert is_logged_in(browser)


def test_a_post_with_the_csrf_token_goes_through(alice: Any, hello: Flow) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.get("/login/")  # sets the CSRF cookie, as a browser's first visit does
    token = browser.cookies["csrftoken"].value

    response = browser.post(
        "/login/", {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302

    browser.get("/flows/dev/hello/")  # logging in rotated the token
    token = browser.cookies["csrftoken"].value
    response = browser.post("/flows/dev/hello/run/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302
    assert Execution.objects.count() == 1


def test_the_api_ignores_a_browser_session(alice: Any, hello: Flow) -> None:
    # The API is exempt from CSRF because it never reads the session cookie.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    response = browser.post("/api/v1/executions/dev/hello")

    assert response.status_code == 401
    assert not Execution.objects.exists()


# --- Security settings ------------------------------------------------------------------


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
        ({"FLOWSITE_PRODUCTION": "true", "FLOWSITE_HSTS_SECONDS": "-1"}, "FLOWSITE_HSTS_SECONDS=-1 is negative"),
    ],
)  # fmt: skip
def test_a_bad_login_or_security_setting_stops_start_up(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = settings_in_subprocess(tmp_path, "pass", **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
