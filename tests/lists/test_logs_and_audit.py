"""The logs page across executions and the superusers' audit log: filters, keyset pages,
permission scoping, and links to what each row names."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEntry, Team
from executions import logs_page
from executions.models import Execution, LogLine, State
from flows.models import Flow


def execution(namespace: str, flow_id: str = "f") -> Execution:
    flow = Flow.objects.filter(namespace=namespace, flow_id=flow_id).first() or Flow.save_source(
        f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n"
        "  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
    )
    return Execution.objects.create(
        flow_revision=flow.current_revision,
        namespace=namespace,
        flow_id=flow_id,
        state=State.SUCCESS,
    )


def line(
    run: Execution, message: str, *, level: str = "INFO", ago: timedelta = timedelta()
) -> LogLine:
    return LogLine.objects.create(
        execution=run, task_id="hello", stream="stdout", level=level,
        timestamp=timezone.now() - ago, message=message,
    )  # fmt: skip


def shown(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def messages(html: str) -> list[str]:
    return [part.split("</pre>", 1)[0] for part in html.split('<td class="message"><pre>')[1:]]


def test_the_logs_page_finds_a_line_by_text_newest_first_with_date_and_time(alice, client) -> None:
    run = execution("dev")
    line(run, "starting up")
    line(run, "the needle is here")
    line(run, "NEEDLE again")
    client.force_login(alice)
    html = shown(client, "/logs/?q=needle")
    assert messages(html) == ["NEEDLE again", "the needle is here"]
    assert f'href="/executions/{run.pk}/"' in html
    assert '<time datetime="' in html and timezone.now().strftime("%Y-%m-%d") in html


def test_bob_and_charlie_never_see_alices_lines(alice, bob, charlie, client) -> None:
    secret = execution("dev")
    line(secret, "alice's secret line")
    bobs = execution("company.data.etl")
    line(bobs, "bob's own line")
    for user, expected in ((bob, ["bob's own line"]), (charlie, [])):
        client.force_login(user)
        for url in (
            "/logs/",
            "/logs/?q=secret",
            "/logs/?namespace=dev",
            "/logs/?flow=f",
            "/logs/?level=TRACE",
        ):
            html = shown(client, url)
            assert "alice&#x27;s secret line" not in html and "alice's secret" not in html, (
                user,
                url,
            )
            assert secret.pk not in html
        assert [m.replace("&#x27;", "'") for m in messages(shown(client, "/logs/"))] == expected


def test_the_level_filter_keeps_that_level_and_above(alice, client) -> None:
    run = execution("dev")
    for level in ("DEBUG", "INFO", "WARN", "ERROR"):
        line(run, f"a {level} line", level=level)
    client.force_login(alice)
    assert messages(shown(client, "/logs/?level=warn")) == ["a ERROR line", "a WARN line"]
    assert "Level &#x27;LOUD&#x27; must be one of" in shown(client, "/logs/?level=loud")


def test_namespace_flow_and_period_narrow_the_lines(alice, client) -> None:
    line(execution("company.data", "etl"), "child namespace")
    line(execution("company", "etl"), "parent namespace")
    line(execution("dev", "etl"), "other namespace")
    line(execution("dev", "other"), "last week", ago=timedelta(days=3))
    client.force_login(alice)
    assert messages(shown(client, "/logs/?namespace=company")) == [
        "parent namespace",
        "child namespace",
    ]
    assert messages(shown(client, "/logs/?namespace=dev&flow=etl")) == ["other namespace"]
    assert "last week" not in messages(shown(client, "/logs/?period=day"))
    assert messages(shown(client, "/logs/?period=week&flow=other")) == ["last week"]
    old = (timezone.now() - timedelta(days=3)).strftime("%Y-%m-%d")
    assert messages(shown(client, f"/logs/?from={old}&to={old}")) == ["last week"]
    assert "is not a date" in shown(client, "/logs/?from=yesterday")
    assert "Period &#x27;year&#x27; must be one of" in shown(client, "/logs/?period=year")


def test_older_lines_come_by_id_not_by_offset(alice, client, monkeypatch) -> None:
    monkeypatch.setattr(logs_page, "PAGE_SIZE", 3)
    run = execution("dev")
    made = [line(run, f"line {n}") for n in range(7)]
    client.force_login(alice)
    first = shown(client, "/logs/")
    assert messages(first) == ["line 6", "line 5", "line 4"]
    assert f'href="?before={made[4].id}" rel="next"' in first
    second = shown(client, f"/logs/?before={made[4].id}")
    assert messages(second) == ["line 3", "line 2", "line 1"]
    assert messages(shown(client, f"/logs/?before={made[1].id}")) == ["line 0"]
    assert "is not a line&#x27;s id" in shown(client, "/logs/?before=abc")
    assert messages(shown(client, "/logs/?before=99999999999999999999999")) == [
        "line 6",
        "line 5",
        "line 4",
    ]


def test_the_text_search_scans_a_bounded_window_and_offers_the_one_before(
    alice, client, monkeypatch
) -> None:
    monkeypatch.setattr(logs_page, "SCAN_WINDOW", 5)
    run = execution("dev")
    old = line(run, "the old needle")
    made = [line(run, f"filler {n}") for n in range(8)]
    client.force_login(alice)
    html = shown(client, "/logs/?q=needle")
    assert messages(html) == [] and "No line matches these filters in the lines searched" in html
    lower = made[-1].id + 1 - 5
    assert f'href="?q=needle&amp;before={lower}"' in html
    assert messages(shown(client, f"/logs/?q=needle&before={lower}")) == ["the old needle"]
    assert old.id < lower


def test_the_audit_log_is_for_superusers_only(alice, bob, charlie, client) -> None:
    for user in (alice, bob, charlie):
        client.force_login(user)
        assert client.get("/audit/").status_code == 404
    client.logout()
    assert client.get("/audit/").status_code == 302


def test_the_audit_log_links_to_what_each_entry_names(admin_client, admin_user) -> None:
    run = execution("dev")
    team = Team.objects.create(name="data-team")
    audit_record(
        actor=admin_user, action="ran", namespace="dev", object_type="execution", object_id=run.pk
    )
    audit_record(
        actor=admin_user, action="created", namespace="dev", object_type="flow", object_id="f"
    )
    audit_record(
        actor=admin_user, action="created", namespace="", object_type="team", object_id=team.name
    )
    audit_record(
        actor=admin_user, action="created", namespace="", object_type="user", object_id="zed"
    )
    html = shown(admin_client, "/audit/")
    assert f'<a href="/executions/{run.pk}/"><code>{run.pk}</code></a>' in html
    assert '<a href="/flows/dev/f/"><code>f</code></a>' in html
    assert f'<a href="/teams/{team.pk}/"><code>data-team</code></a>' in html
    assert '<a href="/users/"><code>zed</code></a>' in html
    assert '<a href="/namespaces/dev/"><code>dev</code></a>' in html
    assert '<a href="/audit/">Audit log</a>' in html


def test_the_audit_log_filters_by_namespace_actor_action_and_period(
    admin_client, admin_user, alice
) -> None:
    audit_record(
        actor=admin_user,
        action="ran",
        namespace="company.data",
        object_type="execution",
        object_id="e1",
    )
    audit_record(
        actor=alice, action="created", namespace="company", object_type="flow", object_id="f2"
    )
    audit_record(actor=alice, action="deleted", namespace="dev", object_type="flow", object_id="f3")
    AuditEntry.objects.filter(object_id="f3").update(timestamp=timezone.now() - timedelta(days=10))

    def ids(url: str) -> list[str]:
        html = shown(admin_client, url)
        return [
            p.split("<", 1)[0]
            for p in html.split("<code>")[1:]
            if p.split("<", 1)[0] in {"e1", "f2", "f3"}
        ]

    assert ids("/audit/") == ["f2", "e1", "f3"]  # newest first
    assert sorted(ids("/audit/?namespace=company")) == ["e1", "f2"]
    assert ids("/audit/?actor=ALICE") == ["f2", "f3"]
    assert ids("/audit/?action=ran") == ["e1"]
    assert "f3" not in ids("/audit/?period=week")
    assert ids("/audit/?sort=actor") == ["e1", "f3", "f2"]  # admin, then alice's oldest first
    assert "Cannot sort by" in shown(admin_client, "/audit/?sort=diff")
    assert "No entry matches these filters" in shown(admin_client, "/audit/?actor=nobody")


def test_the_namespace_audit_page_links_execution_ids(alice, client) -> None:
    run = execution("dev")
    audit_record(
        actor=alice, action="ran", namespace="dev", object_type="execution", object_id=run.pk
    )
    audit_record(
        actor=alice, action="ran", namespace="company", object_type="execution", object_id="other"
    )
    client.force_login(alice)
    html = shown(client, "/namespaces/dev/audit/")
    assert f'<a href="/executions/{run.pk}/"><code>{run.pk}</code></a>' in html
    assert "other" not in html


def test_the_executions_list_sorts_by_its_headers(alice, bob, client) -> None:
    slow = execution("dev", "zeta")
    fast = execution("company", "alpha")
    hidden = execution("elsewhere", "mid")
    now = timezone.now()
    Execution.objects.filter(pk=slow.pk).update(
        started_at=now - timedelta(seconds=90), ended_at=now, state=State.FAILED
    )
    Execution.objects.filter(pk=fast.pk).update(started_at=now - timedelta(seconds=1), ended_at=now)
    client.force_login(alice)

    def order(url: str) -> list[str]:
        html = shown(client, url)
        assert hidden.pk not in html
        return [p.split('"', 1)[0] for p in html.split('data-execution="')[1:]]

    assert order("/executions/") == [fast.pk, slow.pk]  # newest first
    assert order("/executions/?sort=start") == [slow.pk, fast.pk]
    assert order("/executions/?sort=-duration") == [slow.pk, fast.pk]
    assert order("/executions/?sort=duration") == [fast.pk, slow.pk]
    assert order("/executions/?sort=flow") == [fast.pk, slow.pk]
    assert order("/executions/?sort=state") == [slow.pk, fast.pk]
    html = shown(client, "/executions/?state=FAILED&sort=evil&page=zz")
    assert "Cannot sort by" in html and "There is no page" in html
    assert 'href="?state=FAILED&amp;sort=-duration"' not in html
    assert 'href="?state=FAILED&amp;sort=duration"' in html
    client.force_login(bob)
    assert order("/executions/?sort=-duration") == []
