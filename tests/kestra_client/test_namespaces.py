"""kestrapy's namespace calls that Kestra's open-source edition answers: get one, search
them, and the variables it inherits."""

from __future__ import annotations

import pytest
from kestrapy.exceptions import NotFoundException

from flows.models import Flow
from namespaces.models import NamespaceVariable
from tests.kestra_client.conftest import TENANT, where

pytestmark = pytest.mark.django_db(transaction=True)

TINY = """\
id: tiny
namespace: {namespace}
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


@pytest.fixture
def namespaces(alice) -> None:
    for namespace in ("dev", "company.data", "company.data.raw"):
        Flow.save_source(TINY.format(namespace=namespace))
    # An object: kestrapy's model of a namespace takes each variable to be one (a scalar
    # comes back as the scalar, as Kestra's does, and its strict model refuses it).
    NamespaceVariable.store(namespace="company", key="region", value={"name": "eu"}, user=alice)


def test_it_searches_the_namespaces_with_their_parents(kestra, namespaces) -> None:
    found = kestra.namespaces.search_namespaces(TENANT, size=50)
    data = kestra.namespaces.search_namespaces(
        TENANT, size=50, filters=[where("q", "EQUALS", "data")]
    )

    assert [n.id for n in found.results] == [
        "company",
        "company.data",
        "company.data.raw",
        "dev",
    ]
    assert found.total == 4
    assert [n.id for n in data.results] == ["company.data", "company.data.raw"]


def test_bob_finds_only_the_namespaces_he_works_in(kestra_bob, namespaces) -> None:
    found = kestra_bob.namespaces.search_namespaces(TENANT)

    assert [n.id for n in found.results] == ["company", "company.data", "company.data.raw"]


def test_it_gets_a_namespace_and_what_it_inherits(kestra, namespaces) -> None:
    namespace = kestra.namespaces.namespace("company", TENANT)
    inherited = kestra.namespaces.inherited_variables("company.data", TENANT)

    assert (namespace.id, namespace.deleted) == ("company", False)
    assert namespace.variables == {"region": {"name": "eu"}}
    assert "region" in str(inherited)


def test_charlie_gets_no_namespace(kestra_charlie, namespaces) -> None:
    with pytest.raises(NotFoundException):
        kestra_charlie.namespaces.namespace("dev", TENANT)
    assert kestra_charlie.namespaces.search_namespaces(TENANT).results == []
