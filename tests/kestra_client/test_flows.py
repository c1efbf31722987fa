"""kestrapy's flow calls: create, get, update, delete, list by namespace, search and
validate, on Kestra 1.x's tenant paths."""

from __future__ import annotations

import pytest
from kestrapy.exceptions import NotFoundException, UnprocessableEntityException

from flows.models import Flow
from tests.kestra_client.conftest import TENANT, body_of, where

pytestmark = pytest.mark.django_db(transaction=True)

GREET = """\
id: greet
namespace: dev
description: Says hello
labels:
  team: data
inputs:
  - id: name
    type: STRING
    defaults: world
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "hello {{ inputs.name }}"
"""


def test_it_creates_a_flow_and_answers_it_with_its_source(kestra) -> None:
    created = kestra.flows.create_flow(TENANT, GREET)

    assert (created.namespace, created.id, created.revision) == ("dev", "greet", 1)
    assert created.source == GREET
    assert [(label.key, label.value) for label in created.labels] == [("team", "data")]
    assert [task.type for task in created.tasks] == ["io.kestra.plugin.core.log.Log"]
    assert [i.id for i in created.inputs] == ["name"]
    assert created.deleted is False and created.disabled is False
    assert Flow.objects.get(namespace="dev", flow_id="greet").source == GREET


def test_it_gets_updates_and_deletes_a_flow(kestra) -> None:
    kestra.flows.create_flow(TENANT, GREET)

    updated = kestra.flows.update_flow("dev", "greet", TENANT, GREET.replace("hello", "hi"))
    fetched = kestra.flows.flow("dev", "greet", TENANT)
    kestra.flows.delete_flow("dev", "greet", TENANT)

    assert updated.revision == 2
    assert "hi {{ inputs.name }}" in fetched.source
    with pytest.raises(NotFoundException):
        kestra.flows.flow("dev", "greet", TENANT)


def test_it_lists_the_flows_of_one_namespace_only(kestra) -> None:
    kestra.flows.create_flow(TENANT, GREET)
    kestra.flows.create_flow(TENANT, GREET.replace("id: greet", "id: wave"))
    kestra.flows.create_flow(TENANT, GREET.replace("namespace: dev", "namespace: dev.sub"))

    flows = kestra.flows.list_flows_by_namespace("dev", TENANT)

    assert sorted(flow.id for flow in flows) == ["greet", "wave"]


def test_it_searches_flows_by_namespace_and_text(kestra) -> None:
    kestra.flows.create_flow(TENANT, GREET)
    kestra.flows.create_flow(TENANT, GREET.replace("id: greet", "id: wave"))
    kestra.flows.create_flow(TENANT, GREET.replace("namespace: dev", "namespace: company"))

    in_dev = kestra.flows.search_flows(TENANT, filters=[where("namespace", "EQUALS", "dev")])
    waves = kestra.flows.search_flows(TENANT, filters=[where("q", "EQUALS", "wav")])
    first_page = kestra.flows.search_flows(TENANT, page=1, size=2)

    assert (in_dev.total, sorted(f.id for f in in_dev.results)) == (2, ["greet", "wave"])
    assert [(f.namespace, f.id) for f in waves.results] == [("dev", "wave")]
    assert (first_page.total, len(first_page.results)) == (3, 2)


def test_another_persona_finds_none_of_alices_flows(kestra, kestra_charlie) -> None:
    kestra.flows.create_flow(TENANT, GREET)

    found = kestra_charlie.flows.search_flows(TENANT)

    assert (found.total, found.results) == (0, [])
    with pytest.raises(NotFoundException):
        kestra_charlie.flows.flow("dev", "greet", TENANT)


def test_it_validates_a_flow_without_saving_it(kestra) -> None:
    [good] = kestra.flows.validate_flows(TENANT, GREET)
    [bad] = kestra.flows.validate_flows(TENANT, GREET.replace("tasks:", "tasks: 3\nx:"))

    assert (good.flow, good.namespace, good.constraints) == ("greet", "dev", None)
    assert bad.constraints
    assert not Flow.objects.exists()


def test_an_invalid_flow_is_refused_with_what_is_wrong(kestra) -> None:
    with pytest.raises(UnprocessableEntityException) as refused:
        kestra.flows.create_flow(TENANT, GREET.replace("message:", "mesage:"))

    assert "mesage" in body_of(refused)


def test_a_flow_saved_before_the_language_refused_it_is_still_listed(api) -> None:
    flow = Flow.save_source(GREET)
    Flow.objects.filter(pk=flow.pk).update(source="id: greet\nnamespace: dev\ntasks: nope\n")

    found = api.get("/api/v1/main/flows/search")
    listed = api.get("/api/v1/main/flows/dev")

    assert found.status_code == listed.status_code == 200
    assert [f["id"] for f in found.json()["results"]] == ["greet"]
    assert [f["id"] for f in listed.json()] == ["greet"]
