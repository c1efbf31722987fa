"""CSRF: a form post needs its token; the API, which never reads the session, does not."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from executions.models import Execution
from flows.models import Flow
from tests.accounts.login.conftest import is_logged_in, log_in
from tests.personas import PASSWORD


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
