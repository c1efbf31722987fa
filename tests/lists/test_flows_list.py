"""The flows list across namespaces (/flows/) and within one: search, filters, labels,
sorting, pages, last execution and next trigger, and what an empty list says."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from executions.models import Execution, State
from flows.models import Flow
from triggers.models import TriggerState


def flow(flow_id: str, namespace: str = "dev", extra: str = "") -> Flow:
    return Flow.save_source(
        f"id: {flow_id}\nnamespace: {namespace}\n{extra}tasks:\n"
        "  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
    )


def shown(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rows(html: str) -> list[str]:
    """The flows of the table, in order, as namespace.id."""
    return [part.split('"', 1)[0] for part in html.split('data-flow="')[1:]]


def test_the_flows_list_shows_flows_of_every_namespace_alice_may_see(alice, client) -> None:
    flow("one", "dev")
    flow("two", "company.team")
    flow("hidden", "elsewhere")
    client.force_login(alice)
    assert rows(shown(client, "/flows/")) == ["dev.one", "company.team.two"]  # by id


def test_bob_sees_only_the_flows_of_his_team_namespace(alice, bob, client) -> None:
    flow("alices", "dev")
    flow("etl", "company.data.etl")
    flow("other", "company.web")
    client.force_login(bob)
    html = shown(client, "/flows/?q=")
    assert rows(html) == ["company.data.etl.etl"]
    assert rows(shown(client, "/flows/?q=alices")) == []
    assert rows(shown(client, "/flows/?namespace=dev")) == []


def test_search_matches_id_namespace_description_and_label_values_ignoring_case(
    alice, client
) -> None:
    flow("nightly-report", "dev")
    flow("loader", "company.warehouse")
    flow("cleaner", "dev", extra="description: Removes OLD files\n")
    flow("labelled", "dev", extra="labels:\n  team: Finance\n")
    client.force_login(alice)
    assert rows(shown(client, "/flows/?q=NIGHTLY")) == ["dev.nightly-report"]
    assert rows(shown(client, "/flows/?q=warehouse")) == ["company.warehouse.loader"]
    assert rows(shown(client, "/flows/?q=old files")) == ["dev.cleaner"]
    assert rows(shown(client, "/flows/?q=finance")) == ["dev.labelled"]


def test_the_namespace_filter_includes_child_namespaces_only(alice, client) -> None:
    flow("a", "company")
    flow("b", "company.data")
    flow("c", "companyx")
    flow("d", "dev")
    client.force_login(alice)
    assert rows(shown(client, "/flows/?namespace=company")) == ["company.a", "company.data.b"]


def test_labels_are_chips_that_filter_by_key_and_value(alice, client) -> None:
    flow("paid", "dev", extra="labels:\n  team: finance\n")
    flow("free", "dev", extra="labels:\n  team: ops\n")
    client.force_login(alice)
    html = shown(client, "/flows/")
    assert 'class="label-chip" href="?&amp;label=team:finance"' in html
    assert rows(shown(client, "/flows/?label=team:finance")) == ["dev.paid"]
    assert "must be written key:value" in shown(client, "/flows/?label=nonsense")


def test_each_flow_shows_its_last_execution_linked_and_its_next_schedule(alice, client) -> None:
    ran = flow("ran", "dev")
    flow("never", "dev")
    Execution.objects.create(
        flow_revision=ran.current_revision, namespace="dev", flow_id="ran", state=State.SUCCESS,
        created_at=timezone.now() - timedelta(hours=2),
    )  # fmt: skip
    last = Execution.objects.create(
        flow_revision=ran.current_revision, namespace="dev", flow_id="ran", state=State.FAILED
    )
    TriggerState.objects.create(
        namespace="dev", flow_id="ran", trigger_id="daily", definition={},
        type="io.kestra.plugin.core.trigger.Schedule", next_date=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    client.force_login(alice)
    html = shown(client, "/flows/")
    assert f'href="/executions/{last.pk}/" class="state state-FAILED"' in html
    assert "never run" in html
    assert html.count("<time datetime=") >= 3  # a next date, and two updated dates


def test_the_last_state_and_next_date_take_no_query_per_flow(alice, client) -> None:
    for number in range(30):
        flow(f"flow-{number}", "dev")
    client.force_login(alice)
    client.get("/flows/")
    with CaptureQueriesContext(connection) as queries:
        assert len(rows(shown(client, "/flows/"))) == 30
    few = len(queries)
    for number in range(30, 45):
        flow(f"flow-{number}", "dev")
    with CaptureQueriesContext(connection) as queries:
        assert len(rows(shown(client, "/flows/"))) == 45
    assert len(queries) == few


def test_clicking_a_header_sorts_and_clicking_again_reverses(alice, client) -> None:
    flow("b-flow", "dev")
    flow("a-flow", "company")
    client.force_login(alice)
    html = shown(client, "/flows/")
    assert rows(html) == ["company.a-flow", "dev.b-flow"]  # by id
    assert 'href="?sort=-id"' in html  # the sorted column turns around
    assert rows(shown(client, "/flows/?sort=-id")) == ["dev.b-flow", "company.a-flow"]
    assert rows(shown(client, "/flows/?sort=-namespace")) == ["dev.b-flow", "company.a-flow"]


def test_a_sort_key_outside_the_whitelist_falls_back_with_a_notice(alice, client) -> None:
    flow("b-flow", "dev")
    flow("a-flow", "company")
    client.force_login(alice)
    for evil in ("source", "-deleted_at", "namespace;drop", "__class__"):
        html = shown(client, f"/flows/?sort={evil}")
        assert rows(html) == ["company.a-flow", "dev.b-flow"]
        assert "Cannot sort by" in html


def test_pages_of_50_and_bad_page_numbers_give_a_page_and_a_notice(alice, client) -> None:
    for number in range(120):
        flow(f"f{number:03}", "dev")
    client.force_login(alice)
    first = shown(client, "/flows/")
    assert len(rows(first)) == 50 and "Page 1 of 3" in first
    assert rows(shown(client, "/flows/?page=3")) == [f"dev.f{n:03}" for n in range(100, 120)]
    assert "Page 2 of 3" in shown(client, "/flows/?page=2&sort=id")
    for bad, notice in (
        ("abc", "There is no page"),
        ("-1", "There is no page"),
        ("0", "There is no page"),
    ):
        html = shown(client, f"/flows/?page={bad}")
        assert rows(html)[0] == "dev.f000" and notice in html
    huge = shown(client, "/flows/?page=99999999999999999999")
    assert "There is no page" in huge and rows(huge)[0] == "dev.f000"
    beyond = shown(client, "/flows/?page=7")
    assert "showing the last, 3" in beyond and rows(beyond)[0] == "dev.f100"


def test_the_pager_and_headers_keep_the_other_parameters(alice, client) -> None:
    for number in range(60):
        flow(f"x{number:02}", "dev")
    client.force_login(alice)
    html = shown(client, "/flows/?q=x&sort=-id")
    assert 'href="?q=x&amp;sort=-id&amp;page=2"' in html
    assert 'href="?q=x&amp;sort=namespace"' in html


def test_a_user_without_any_role_is_told_why_and_whom_to_ask(
    alice, charlie, client, django_user_model
) -> None:
    flow("plenty", "dev")
    django_user_model.objects.create_superuser("root", password="x")
    client.force_login(charlie)
    for url in ("/flows/", "/namespaces/", "/executions/", "/logs/"):
        html = shown(client, url)
        assert "You have no role on any namespace" in html, url
        assert "<strong>root</strong>" in html
        assert "Write a flow" not in html and "Write your first flow" not in html
        assert "plenty" not in html


def test_a_viewer_is_not_offered_to_write_a_flow_but_an_editor_is(
    alice, client, django_user_model
) -> None:
    from accounts.models import Role, RoleBinding

    viewer = django_user_model.objects.create_user("vera", password="x")
    RoleBinding.objects.create(namespace="quiet", user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    html = shown(client, "/flows/")
    assert "No flows yet that you may see" in html and "Write a flow" not in html
    assert "ask an Admin" in html
    client.force_login(alice)
    assert "Write a flow" in shown(client, "/flows/")


def test_filters_that_match_nothing_say_so_with_a_clear_link(alice, client) -> None:
    flow("one", "dev")
    client.force_login(alice)
    html = shown(client, "/flows/?q=nothing-like-it")
    assert "No flow matches these filters" in html and '<a href="?">Clear them</a>' in html


def test_the_namespace_page_shows_the_same_list_scoped_to_it(alice, client) -> None:
    flow("inside", "company")
    flow("child", "company.data")
    flow("outside", "dev")
    client.force_login(alice)
    html = shown(client, "/namespaces/company/?sort=-id")
    assert rows(html) == ["company.inside"]
    assert 'aria-label="Search flows"' in html
    assert rows(shown(client, "/namespaces/dev/?q=zzz")) == []


def test_the_nav_flows_link_opens_the_flows_list(alice, client) -> None:
    client.force_login(alice)
    assert '<a href="/flows/">Flows</a>' in shown(client, "/executions/")


def test_the_namespaces_list_sorts_by_flow_count_and_pages(alice, client) -> None:
    flow("a", "dev")
    flow("b", "dev")
    flow("c", "company")
    client.force_login(alice)
    html = shown(client, "/namespaces/?sort=-flows")
    assert html.index(">dev</a>") < html.index(">company</a>")
    assert "Cannot sort by" in shown(client, "/namespaces/?sort=id")
    assert "There is no page" in shown(client, "/namespaces/?page=x")
