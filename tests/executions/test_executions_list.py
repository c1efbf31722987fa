"""The executions list and Kestra's search API filter by namespace, flow, state, label
and date, and show each person only what their roles let them see."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from accounts.models import Role, RoleBinding
from executions.models import Execution, State
from tests.executions.helpers import T0, listed_executions, make_execution

pytestmark = pytest.mark.django_db


# The executions list


def _list(client: Client, query: str) -> list[str]:
    response = client.get(f"/executions/?{query}")
    assert response.status_code == 200
    return listed_executions(response.content.decode())


def _flow_in(namespace: str, flow_id: str) -> str:
    return (
        f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n  - id: t\n    type: Log\n    message: m\n"
    )


@pytest.fixture
def spread(alice: Any, bob: Any) -> dict[str, Execution]:
    """Executions across namespaces, flows, states, labels and days; alice sees them all,
    ``companyx`` included, so that it is the filter that leaves it out."""
    RoleBinding.objects.create(user=alice, namespace="companyx", role=Role.VIEWER)
    made = {}
    for name, namespace, flow_id, state, day, labels in [
        ("company", "company", "a", State.SUCCESS, 1, {"env": "prod"}),
        ("team", "company.team", "a", State.FAILED, 2, {"env": "dev"}),
        ("data", "company.data", "b", State.KILLED, 3, {"env": "prod", "team": "data"}),
        ("other", "companyx", "a", State.SUCCESS, 4, {}),
        ("dev", "dev", "c", State.RUNNING, 5, {"env": "prod"}),
    ]:
        made[name] = make_execution(
            _flow_in(namespace, flow_id),
            state=state,
            labels=labels,
            created_at=T0 + timedelta(days=day),
        )
    return made


def test_the_namespace_filter_also_finds_child_namespaces(
    client: Client, alice: Any, spread: dict[str, Execution]
) -> None:
    client.force_login(alice)

    shown = _list(client, "namespace=company")

    assert set(shown) == {spread["company"].pk, spread["team"].pk, spread["data"].pk}


def test_the_flow_filter(client: Client, alice: Any, spread: dict[str, Execution]) -> None:
    client.force_login(alice)

    assert set(_list(client, "namespace=company&flow=a")) == {
        spread["company"].pk,
        spread["team"].pk,
    }


def test_several_states_can_be_chosen(
    client: Client, alice: Any, spread: dict[str, Execution]
) -> None:
    client.force_login(alice)

    shown = _list(client, "state=FAILED&state=KILLED")

    assert set(shown) == {spread["team"].pk, spread["data"].pk}
    page = client.get("/executions/?state=FAILED&state=KILLED").content.decode()
    assert 'value="FAILED" checked' in page and 'value="SUCCESS" checked' not in page


def test_the_label_filter_takes_key_colon_value_and_several_combine(
    client: Client, alice: Any, spread: dict[str, Execution]
) -> None:
    client.force_login(alice)

    assert set(_list(client, "label=env:prod")) == {
        spread["company"].pk,
        spread["data"].pk,
        spread["dev"].pk,
    }
    assert _list(client, "label=env:prod&label=team:data") == [spread["data"].pk]


def test_the_date_range_includes_the_whole_end_day(
    client: Client, alice: Any, spread: dict[str, Execution]
) -> None:
    client.force_login(alice)
    day = lambda n: (T0 + timedelta(days=n)).date().isoformat()  # noqa: E731

    shown = _list(client, f"start={day(2)}&end={day(3)}")

    assert set(shown) == {spread["team"].pk, spread["data"].pk}
    assert set(_list(client, f"start={day(5)}T08:00")) == {spread["dev"].pk}


def test_a_filter_that_cannot_be_read_is_explained(client: Client, alice: Any) -> None:
    client.force_login(alice)

    html = client.get("/executions/?state=DONE&label=nocolon&start=yesterday").content.decode()

    assert "state: &#x27;DONE&#x27; is not a state" in html
    assert "label: &#x27;nocolon&#x27; must be written key:value" in html
    assert "start: &#x27;yesterday&#x27; is not a date" in html


def test_the_pages_keep_the_filters(client: Client, alice: Any) -> None:
    client.force_login(alice)
    for _ in range(51):
        make_execution(_flow_in("dev", "many"), labels={"env": "prod"})

    html = client.get("/executions/?namespace=dev&label=env:prod&state=SUCCESS").content.decode()

    link = re.search(r'<a href="\?([^"]+)" rel="next">Next</a>', html)
    assert link is not None
    older = link.group(1).replace("&amp;", "&")
    assert older == "namespace=dev&label=env%3Aprod&state=SUCCESS&page=2"
    assert len(_list(client, older)) == 1


def test_bob_sees_only_his_namespace_and_charlie_nothing(
    client: Client, bob: Any, charlie: Any, spread: dict[str, Execution]
) -> None:
    client.force_login(bob)
    assert _list(client, "") == [spread["data"].pk]
    assert _list(client, "namespace=company") == [spread["data"].pk]

    client.force_login(charlie)
    assert _list(client, "") == []
    assert _list(client, "namespace=company&label=env:prod") == []


# Kestra's search API


def _search(api: Any, query: str) -> Any:
    return api.get(f"/api/v1/executions/search?{query}")


def test_the_search_api_filters_like_the_page(api: Any, spread: dict[str, Execution]) -> None:
    response = _search(api, "namespace=company&state=SUCCESS&state=KILLED&labels=env:prod")

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert {e["id"] for e in body["results"]} == {spread["company"].pk, spread["data"].pk}
    assert {"key": "team", "value": "data"} in next(
        e["labels"] for e in body["results"] if e["id"] == spread["data"].pk
    )


def test_the_search_api_reads_kestra_s_dates_and_flow_id(
    api: Any, spread: dict[str, Execution]
) -> None:
    start = (T0 + timedelta(days=1, hours=1)).isoformat()
    end = (T0 + timedelta(days=4)).isoformat()

    body = _search(
        api, f"flowId=a&startDate={start.replace('+', '%2B')}&endDate={end.replace('+', '%2B')}"
    ).json()

    assert [e["id"] for e in body["results"]] == [spread["other"].pk, spread["team"].pk]


def test_the_search_api_pages_newest_first(api: Any, spread: dict[str, Execution]) -> None:
    first = _search(api, "size=2").json()
    third = _search(api, "size=2&page=3").json()

    assert first["total"] == third["total"] == 5
    assert [e["id"] for e in first["results"]] == [spread["dev"].pk, spread["other"].pk]
    assert [e["id"] for e in third["results"]] == [spread["company"].pk]


def test_the_search_api_refuses_what_it_cannot_read(api: Any) -> None:
    response = _search(api, "state=DONE")

    assert response.status_code == 400
    assert "state: 'DONE' is not a state" in response.json()["message"]
    assert _search(api, "size=0").status_code == 400


def test_the_search_api_shows_charlie_nothing(
    client: Client, charlie: Any, spread: dict[str, Execution]
) -> None:
    from tests.conftest import basic_auth

    response = client.get(
        "/api/v1/executions/search?namespace=company", HTTP_AUTHORIZATION=basic_auth("charlie")
    )

    assert response.status_code == 200
    assert response.json() == {"results": [], "total": 0}
