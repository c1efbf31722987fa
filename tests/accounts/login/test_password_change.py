"""Changing a password."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.accounts.login.conftest import is_logged_in, log_in, page
from tests.personas import PASSWORD


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
