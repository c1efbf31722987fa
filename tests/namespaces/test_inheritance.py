"""A namespace sees its own variables and secrets and its parents', the nearest winning."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from namespaces.lookup import (
    SecretNotFound,
    inherited_secret_keys,
    inherited_variables,
    namespace_secret,
    namespace_secrets,
    namespace_variables,
)
from namespaces.models import NamespaceVariable, Secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree() -> None:
    NamespaceVariable.store(namespace="company", key="region", value="eu")
    NamespaceVariable.store(namespace="company", key="owner", value={"team": "platform"})
    NamespaceVariable.store(namespace="company.data", key="owner", value={"team": "data"})
    NamespaceVariable.store(namespace="company.web", key="site", value="example.org")
    NamespaceVariable.store(namespace="companyx", key="region", value="us")
    Secret.store(namespace="company", key="API_KEY", value="company key")
    Secret.store(namespace="company", key="DB_PASSWORD", value="company db")
    Secret.store(namespace="company.data", key="API_KEY", value="data key")
    Secret.store(namespace="company.web", key="WEB_TOKEN", value="web token")


def test_a_child_sees_its_parents_variables_and_its_own_override_them(tree) -> None:
    assert namespace_variables("company.data") == {"region": "eu", "owner": {"team": "data"}}


def test_a_grandchild_inherits_through_every_level(tree) -> None:
    assert namespace_variables("company.data.etl") == {
        "region": "eu",
        "owner": {"team": "data"},
    }


def test_a_parent_does_not_see_its_childrens_variables(tree) -> None:
    assert namespace_variables("company") == {"region": "eu", "owner": {"team": "platform"}}


def test_a_namespace_that_only_shares_a_prefix_is_no_parent(tree) -> None:
    assert namespace_variables("companyx") == {"region": "us"}


def test_secrets_are_inherited_decrypted_with_the_nearest_winning(tree) -> None:
    assert namespace_secrets("company.data") == {
        "API_KEY": "data key",
        "DB_PASSWORD": "company db",
    }
    assert namespace_secrets("company") == {"API_KEY": "company key", "DB_PASSWORD": "company db"}


def test_one_secret_is_looked_up_the_same_way(tree) -> None:
    assert namespace_secret("company.data.etl", "API_KEY") == "data key"
    assert namespace_secret("company.data.etl", "DB_PASSWORD") == "company db"


def test_a_missing_secret_names_the_key_and_where_it_was_looked_for(tree) -> None:
    with pytest.raises(SecretNotFound) as missing:
        namespace_secret("company.data", "WEB_TOKEN")
    assert str(missing.value) == "No secret WEB_TOKEN in namespace company.data or its parents"


def test_the_inherited_views_show_only_what_comes_from_the_parents(tree) -> None:
    assert inherited_variables("company.data") == {"region": "eu", "owner": {"team": "platform"}}
    assert inherited_variables("company") == {}
    assert inherited_secret_keys("company.data.etl") == {
        "company": ["API_KEY", "DB_PASSWORD"],
        "company.data": ["API_KEY"],
    }


@pytest.mark.parametrize("key", ["", "with-dash", "with space", "1starts_with_digit", "é", "KEY\n"])
def test_a_key_that_is_not_letters_digits_and_underscores_is_refused(key: str) -> None:
    with pytest.raises(ValidationError):
        Secret.store(namespace="company", key=key, value="v")
    with pytest.raises(ValidationError):
        NamespaceVariable.store(namespace="company", key=key, value="v")


def test_setting_a_key_again_replaces_its_value() -> None:
    NamespaceVariable.store(namespace="company", key="region", value="eu")
    NamespaceVariable.store(namespace="company", key="region", value=["eu", "us"])
    Secret.store(namespace="company", key="API_KEY", value="first")
    Secret.store(namespace="company", key="API_KEY", value="second")
    assert namespace_variables("company") == {"region": ["eu", "us"]}
    assert namespace_secrets("company") == {"API_KEY": "second"}
