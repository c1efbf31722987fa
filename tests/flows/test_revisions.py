from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from pytest_django.asserts import assertContains

from accounts.models import AuditEntry, Role, RoleBinding
from flows.models import Flow

FIRST = """id: report
namespace: company.data
tasks:
  - id: say
    type: Log
    message: "<b>hello</b>"
"""
SECOND = FIRST.replace('"<b>hello</b>"', "goodbye") + "# the end\n"
URL = "/flows/company.data/report"

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(alice: Any, bob: Any) -> Flow:
    Flow.save_source(FIRST, author=alice)
    return Flow.save_source(SECOND, author=bob)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_list_shows_every_revision_newest_first_with_its_author(
    history: Flow, bob: Any
) -> None:
    page = _client(bob).get(f"{URL}/revisions/").content.decode()
    second, first = page.index(f'{URL}/revisions/2/"'), page.index(f'{URL}/revisions/1/"')
    assert second < first
    assert page.index("bob", second) < first and "alice" in page[first:]


def test_the_flow_page_links_to_its_revisions(history: Flow, bob: Any) -> None:
    assertContains(_client(bob).get(f"{URL}/"), f'href="{URL}/revisions/"')


def test_a_revision_shows_its_source_exactly(history: Flow, bob: Any) -> None:
    response = _client(bob).get(f"{URL}/revisions/1/")
    assertContains(response, '<pre class="source" data-testid="revision-source">', count=1)
    assertContains(response, "&quot;&lt;b&gt;hello&lt;/b&gt;&quot;")  # escaped, not markup
    assert response.context["revision"].source == FIRST


def test_the_diff_marks_changed_lines_on_both_sides(history: Flow, bob: Any) -> None:
    response = _client(bob).get(f"{URL}/revisions/diff/?from=1&to=2")
    assertContains(
        response,
        '<td class="old changed">    message: &quot;&lt;b&gt;hello&lt;/b&gt;&quot;</td>',
        html=True,
    )
    assertContains(response, '<td class="new changed">    message: goodbye</td>', html=True)
    assertContains(response, '<td class="new added"># the end</td>', html=True)
    assertContains(response, '<td class="old equal">id: report</td>', html=True)


def test_the_diff_marks_removed_lines_the_other_way_round(history: Flow, bob: Any) -> None:
    response = _client(bob).get(f"{URL}/revisions/diff/?from=2&to=1")
    assertContains(response, '<td class="old removed"># the end</td>', html=True)


@pytest.mark.parametrize("query", ["", "?from=1", "?from=1&to=two", "?from=&to=2"])
def test_a_bad_diff_parameter_answers_400_with_a_message(
    history: Flow, bob: Any, query: str
) -> None:
    response = _client(bob).get(f"{URL}/revisions/diff/{query}")
    assertContains(response, "Name two revisions to compare", status_code=400)


def test_an_unknown_revision_is_not_found(history: Flow, bob: Any) -> None:
    client = _client(bob)
    assert client.get(f"{URL}/revisions/9/").status_code == 404
    assert client.get(f"{URL}/revisions/diff/?from=1&to=9").status_code == 404
    assert client.post(f"{URL}/revisions/9/restore/").status_code == 404


def test_restoring_adds_a_new_revision_with_the_old_source_and_an_audit_entry(
    history: Flow, bob: Any
) -> None:
    response = _client(bob).post(f"{URL}/revisions/1/restore/")
    assert response.status_code == 302 and response["Location"] == f"{URL}/"
    flow = Flow.objects.get()
    assert (flow.revision, flow.source) == (3, FIRST)
    restored = flow.revisions.get(revision=3)
    assert (restored.source, restored.author) == (FIRST, bob)
    entry = AuditEntry.objects.get(object_id="report", action="changed")
    assert entry.actor_name == "bob" and entry.summary == "revision 2 → 3"
    assert "+    message: " in entry.diff


def test_restoring_twice_in_a_row_adds_one_revision(history: Flow, bob: Any) -> None:
    client = _client(bob)
    client.post(f"{URL}/revisions/1/restore/")
    client.post(f"{URL}/revisions/1/restore/")
    assert Flow.objects.get().revisions.count() == 3
    assert AuditEntry.objects.filter(object_id="report").count() == 1


def test_restoring_the_current_revision_adds_nothing(history: Flow, bob: Any) -> None:
    assert _client(bob).post(f"{URL}/revisions/2/restore/").status_code == 302
    assert Flow.objects.get().revisions.count() == 2


def test_a_viewer_may_read_the_history_but_not_restore(history: Flow, charlie: Any) -> None:
    RoleBinding.objects.create(user=charlie, namespace="company.data", role=Role.VIEWER)
    client = _client(charlie)
    assert client.get(f"{URL}/revisions/").status_code == 200
    assertContains(client.get(f"{URL}/revisions/1/"), "Restore", count=0)
    assert client.post(f"{URL}/revisions/1/restore/").status_code == 403
    assert Flow.objects.get().revision == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/revisions/"),
        ("get", "/revisions/1/"),
        ("get", "/revisions/diff/?from=1&to=2"),
        ("get", "/revisions/diff/?from=x"),
        ("post", "/revisions/1/restore/"),
    ],
)
def test_an_outsider_gets_404_everywhere(
    history: Flow, charlie: Any, method: str, path: str
) -> None:
    response = getattr(_client(charlie), method)(URL + path)
    assert response.status_code == 404
    assert Flow.objects.get().revision == 2


def test_a_revision_that_no_longer_validates_is_refused_with_its_errors(
    history: Flow, bob: Any
) -> None:
    history.revisions.filter(revision=1).update(source=FIRST.replace("type: Log", "type: Gone"))
    response = _client(bob).post(f"{URL}/revisions/1/restore/")
    assertContains(response, "The flow was not saved", status_code=422)
    assert Flow.objects.get().revision == 2
    assert not AuditEntry.objects.exists()
