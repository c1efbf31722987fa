"""Logging in and out."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.accounts.login.conftest import is_logged_in, log_in, page
from tests.personas import PASSWORD


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
