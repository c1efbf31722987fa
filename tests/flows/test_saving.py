from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from flows.language import FlowInvalid
from flows.models import Flow, FlowRevision

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"
COMMENTED = """# A comment the editor must keep
id: kept
namespace: company.team
tasks:
  - id: b   # trailing comment
    type: Log
    message: second key order kept
"""

pytestmark = pytest.mark.django_db


def test_saving_keeps_the_yaml_verbatim_and_adds_a_revision() -> None:
    flow = Flow.save_source(COMMENTED)
    assert flow.source == COMMENTED
    assert (flow.namespace, flow.flow_id, flow.revision) == ("company.team", "kept", 1)
    changed = COMMENTED.replace("second", "2nd")
    flow = Flow.save_source(changed)
    assert flow.revision == 2
    assert list(flow.revisions.values_list("revision", "source")) == [
        (2, changed),
        (1, COMMENTED),
    ]


def test_saving_the_same_text_again_adds_no_revision() -> None:
    Flow.save_source(COMMENTED)
    assert Flow.save_source(COMMENTED).revision == 1
    assert FlowRevision.objects.count() == 1


def test_an_invalid_save_changes_nothing_that_was_stored() -> None:
    Flow.save_source(COMMENTED)
    with pytest.raises(FlowInvalid):
        Flow.save_source(COMMENTED.replace("type: Log", "type: Nope"))
    flow = Flow.objects.get()
    assert (flow.source, flow.revision, FlowRevision.objects.count()) == (COMMENTED, 1, 1)


def test_a_flow_cannot_be_moved_to_another_id_by_editing_its_yaml() -> None:
    Flow.save_source(COMMENTED)
    with pytest.raises(FlowInvalid, match="Create a new flow"):
        Flow.save_source(
            COMMENTED.replace("id: kept", "id: moved"), expect=("company.team", "kept")
        )
    assert not Flow.objects.filter(flow_id="moved").exists()


def test_a_deleted_flow_keeps_its_history_and_comes_back_when_saved_again() -> None:
    flow = Flow.save_source(COMMENTED)
    flow.soft_delete()
    assert not Flow.objects.live().exists()
    flow = Flow.save_source(COMMENTED)
    assert flow.deleted_at is None and flow.revision == 2


def test_the_new_flow_page_refuses_broken_yaml_and_keeps_the_text(alice, client: Client) -> None:
    client.force_login(alice)
    broken = "id: x\nnamespace: dev\ntasks:\n  - id: a\n   type: Log\n"
    response = client.post("/flows/new/", {"source": broken})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Line 5, column 4" in page
    assert "id: x\nnamespace: dev\ntasks:\n  - id: a\n   type: Log" in page
    assert not Flow.objects.exists()


def test_the_new_flow_page_saves_a_valid_flow_and_opens_it(alice, client: Client) -> None:
    client.force_login(alice)
    source = (EXAMPLES / "hello-world.yml").read_text()
    response = client.post("/flows/new/", {"source": source})
    assert response.status_code == 302 and response["Location"] == "/flows/dev/hello-world/"
    assert Flow.objects.get().source == source


def test_the_flow_page_shows_errors_on_save_and_keeps_the_stored_flow(alice, client) -> None:
    Flow.save_source(COMMENTED)
    client.force_login(alice)
    typed = COMMENTED.replace("message:", "mesage:")
    response = client.post("/flows/company.team/kept/", {"source": typed}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    page = response.content.decode()
    assert "Unknown property &#x27;mesage&#x27;" in page and "Line 7, column 5" in page
    assert "mesage: second key order kept" in page
    assert Flow.objects.get().source == COMMENTED


def test_the_flow_page_saves_a_new_revision(alice, client: Client) -> None:
    Flow.save_source(COMMENTED)
    client.force_login(alice)
    changed = COMMENTED.replace("second", "2nd")
    response = client.post("/flows/company.team/kept/", {"source": changed}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Saved revision 2" in response.content.decode()
    assert Flow.objects.get().source == changed


def test_pages_need_a_login(client: Client) -> None:
    for url in ("/namespaces/", "/flows/new/", "/executions/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_namespace_pages_list_the_flows(alice, client: Client) -> None:
    Flow.save_source(COMMENTED)
    client.force_login(alice)
    assert "company.team" in client.get("/namespaces/").content.decode()
    assert "/flows/company.team/kept/" in client.get("/namespaces/company.team/").content.decode()
