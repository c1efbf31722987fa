"""Secrets are encrypted in the database, under keys that can be rotated."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from flowsite import settings as flowsite_settings
from namespaces.lookup import namespace_secret
from namespaces.models import Secret, SecretUnreadable

PLAINTEXT = "sk-live-0123456789abcdef"

pytestmark = pytest.mark.django_db


def raw_rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Secret._meta.db_table}")
        return cursor.fetchall()


def test_the_database_never_holds_a_secrets_plaintext() -> None:
    Secret.store(namespace="company", key="API_KEY", value=PLAINTEXT)
    (row,) = raw_rows()
    assert not any(PLAINTEXT in str(column) for column in row)
    assert namespace_secret("company", "API_KEY") == PLAINTEXT


def test_setting_the_same_value_twice_stores_different_ciphertexts() -> None:
    first = Secret.store(namespace="company", key="API_KEY", value=PLAINTEXT).ciphertext
    second = Secret.store(namespace="company", key="API_KEY", value=PLAINTEXT).ciphertext
    assert first != second and Secret.objects.count() == 1


def test_after_rotation_old_secrets_still_open_and_new_ones_use_the_new_key(settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FLOWSITE_SECRETS_KEYS = [old]
    Secret.store(namespace="company", key="OLD", value="old value")
    settings.FLOWSITE_SECRETS_KEYS = [new, old]
    Secret.store(namespace="company", key="NEW", value="new value")
    assert namespace_secret("company", "OLD") == "old value"
    settings.FLOWSITE_SECRETS_KEYS = [new]
    assert namespace_secret("company", "NEW") == "new value"


def test_a_secret_no_configured_key_opens_is_reported_by_name(settings) -> None:
    settings.FLOWSITE_SECRETS_KEYS = [Fernet.generate_key().decode()]
    Secret.store(namespace="company", key="API_KEY", value=PLAINTEXT)
    settings.FLOWSITE_SECRETS_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SecretUnreadable) as refused:
        namespace_secret("company.data", "API_KEY")
    assert "Secret API_KEY of namespace company cannot be decrypted" in str(refused.value)
    assert PLAINTEXT not in str(refused.value)


def test_a_malformed_secrets_key_stops_flowsite_without_repeating_the_key(monkeypatch) -> None:
    monkeypatch.setenv("FLOWSITE_SECRETS_KEY", f"{Fernet.generate_key().decode()},not-a-key")
    with pytest.raises(ImproperlyConfigured) as refused:
        flowsite_settings._secrets_keys()
    assert "key 2 is not a Fernet key" in str(refused.value)
    assert "not-a-key" not in str(refused.value)


def test_several_keys_are_read_first_one_first(monkeypatch) -> None:
    keys = [Fernet.generate_key().decode() for _ in range(2)]
    monkeypatch.setenv("FLOWSITE_SECRETS_KEY", ",".join(keys))
    assert flowsite_settings._secrets_keys() == keys


def test_without_a_key_of_its_own_one_is_derived_from_the_secret_key(monkeypatch) -> None:
    monkeypatch.delenv("FLOWSITE_SECRETS_KEY", raising=False)
    (derived,) = flowsite_settings._secrets_keys()
    Fernet(derived)  # a valid key
    assert flowsite_settings._secrets_keys() == [derived]
    monkeypatch.setattr(flowsite_settings, "SECRET_KEY", "another secret key")
    assert flowsite_settings._secrets_keys() != [derived]
