"""The throttle on failed logins: slowed, then locked, by account and by address, on
the login page and the API alike, in every process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest
from django.test import Client

from tests.accounts.login.conftest import LOCKED, is_logged_in, log_in, page
from tests.conftest import ROOT, basic_auth


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
