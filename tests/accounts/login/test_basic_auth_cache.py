"""HTTP Basic auth at token speed: a verified header is remembered for a minute, so the
password hasher runs once, not on every call; a password change or a deactivation
refuses it at once, and wrong passwords are throttled as before.

The hasher is a real one, registered through the settings, that counts its checks."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.cache import cache
from django.test import Client

from tests.accounts.login.conftest import LOCKED
from tests.conftest import basic_auth
from tests.personas import PASSWORD

URL = "/api/v1/executions/search"


class CountingHasher(MD5PasswordHasher):
    """MD5 (the tests' hasher, so the personas' passwords verify), counting its checks."""

    checks: ClassVar[int] = 0

    def verify(self, password: str, encoded: str) -> bool:
        CountingHasher.checks += 1
        return super().verify(password, encoded)


@pytest.fixture(autouse=True)
def counting_hasher(settings: Any) -> type[CountingHasher]:
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.checks = 0
    return CountingHasher


def call(client: Client, username: str = "alice", password: str = PASSWORD) -> Any:
    return client.get(URL, HTTP_AUTHORIZATION=basic_auth(username, password))


def test_a_second_basic_call_does_not_run_the_password_hasher(alice: Any, client: Client) -> None:
    assert call(client).status_code == 200
    assert CountingHasher.checks == 1

    for _ in range(3):
        assert call(client).status_code == 200

    assert CountingHasher.checks == 1


def test_another_password_for_the_same_user_is_checked_not_remembered(
    alice: Any, client: Client
) -> None:
    assert call(client).status_code == 200
    assert call(client, password=PASSWORD + "x").status_code == 401
    assert CountingHasher.checks == 2


def test_a_changed_password_refuses_the_remembered_header_at_once(
    alice: Any, client: Client
) -> None:
    assert call(client).status_code == 200
    alice.set_password("a brand new password")
    alice.save()

    assert call(client).status_code == 401
    assert call(client, password="a brand new password").status_code == 200


def test_a_renamed_user_is_refused_under_the_old_name_at_once(alice: Any, client: Client) -> None:
    assert call(client).status_code == 200
    alice.username = "alice2"
    alice.save()

    assert call(client).status_code == 401
    assert call(client, "alice2").status_code == 200


def test_a_deactivated_user_is_refused_at_once(alice: Any, client: Client) -> None:
    assert call(client).status_code == 200
    alice.is_active = False
    alice.save()

    assert call(client).status_code == 401


def test_a_reactivated_user_pays_the_hasher_again(alice: Any, client: Client) -> None:
    assert call(client).status_code == 200
    alice.is_active = False
    alice.save()
    assert call(client).status_code == 401
    alice.is_active = True
    alice.save()

    assert call(client).status_code == 200
    assert CountingHasher.checks >= 2


def test_wrong_passwords_are_still_throttled_and_lock_a_remembered_header_too(
    alice: Any, client: Client
) -> None:
    assert call(client).status_code == 200
    for _ in range(3):
        assert call(client, password="wrong").status_code == 401
    assert CountingHasher.checks == 4  # every wrong password was checked

    locked = call(client, password="wrong")
    assert locked.status_code == 429 and locked.json()["message"] == LOCKED

    refused = call(client)  # the right, remembered header: refused while locked
    assert refused.status_code == 429 and "Retry-After" in refused


def test_the_cache_holds_neither_the_header_nor_the_password_hash(
    alice: Any, client: Client
) -> None:
    assert call(client).status_code == 200
    stored = repr({key: cache.get(key.split(":", 2)[2]) for key in cache._cache})  # type: ignore[attr-defined]
    assert "basic:" in stored
    assert basic_auth() not in stored and basic_auth().split()[1] not in stored
    assert PASSWORD not in stored and alice.password not in stored


def test_remembering_can_be_turned_off(alice: Any, client: Client, settings: Any) -> None:
    settings.FLOWSITE_BASIC_AUTH_CACHE_SECONDS = 0
    for _ in range(2):
        assert call(client).status_code == 200
    assert CountingHasher.checks == 2
