"""kestrapy, Kestra's official Python client, against a live Flowsite: a real daphne
server (``server_url``) on the test database, and a real django-q2 worker where runs
must end. The client authenticates as it does against Kestra: a Bearer token here
(one per persona), HTTP Basic in the tests that say so.

The client is made strict: when a response does not validate against its pydantic
models, kestrapy quietly falls back to building the model unchecked; here that
fallback fails the test, so every shape Flowsite answers is one Kestra's clients accept
as it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kestrapy import KestraClient
from kestrapy.base_api import BaseApi
from kestrapy.models.query_filter import QueryFilter

from accounts.tokens import token_create

TENANT = "main"


@pytest.fixture(autouse=True)
def strict_models(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: Any, model_type: Any) -> Any:
        model_type.model_validate(data)  # raises the validation error that led here
        raise AssertionError(f"{model_type.__name__} did not validate: {data}")

    monkeypatch.setattr(BaseApi, "_construct_model", staticmethod(refuse))


def client_of(server_url: str, user: Any) -> Iterator[KestraClient]:
    _, raw = token_create(user=user, name="kestrapy", days=7)
    with KestraClient(host=server_url, token=raw, timeout=30) as client:
        yield client


@pytest.fixture
def kestra(server_url: str, alice: Any) -> Iterator[KestraClient]:
    """alice's client: Admin of ``dev`` and ``company``."""
    yield from client_of(server_url, alice)


@pytest.fixture
def kestra_bob(server_url: str, bob: Any) -> Iterator[KestraClient]:
    """bob's client: Editor of ``company.data`` only."""
    yield from client_of(server_url, bob)


@pytest.fixture
def kestra_charlie(server_url: str, charlie: Any) -> Iterator[KestraClient]:
    """charlie's client: no role anywhere."""
    yield from client_of(server_url, charlie)


def where(field: str, operation: str, value: Any) -> QueryFilter:
    """One of kestrapy's search filters, as its users write them."""
    return QueryFilter.model_validate({"field": field, "operation": operation, "value": value})


def body_of(refused: Any) -> str:
    """The JSON body of an error kestrapy raised."""
    return str(refused.value.body)
