"""The execution page as a run goes on: durations written in the unit that suits them and
the instants the page counts from, an axis readable for short runs and long ones,
outputs folded with a preview, previews of output files, labels an Editor changes (on
the page and by Kestra's API), and links to the executions related to this one."""

from __future__ import annotations

import json
import re
import tracemalloc
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEntry, Role, RoleBinding
from executions.models import Execution, State, TaskRun
from executions.presentation import axis_ticks, gantt_rows
from executions.storage import flowsite_storage, storage_save, storage_uri
from flowsite.values import format_duration
from tests.conftest import basic_auth
from tests.executions.helpers import PARALLEL_FLOW, at, make_execution, make_run

pytestmark = pytest.mark.django_db

COMPANY_FLOW = PARALLEL_FLOW.replace("namespace: dev", "namespace: company.data")


def _fragment(client: Client, execution: Execution) -> str:
    response = client.get(f"/executions/{execution.pk}/task-runs/")
    assert response.status_code == 200
    return response.content.decode()


def _page(client: Client, execution: Execution) -> str:
    response = client.get(f"/executions/{execution.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _axis(html: str) -> list[str]:
    scale = re.search(r'<th class="gantt-scale"[^>]*>(.*?)</th>', html, re.S)
    assert scale
    return re.findall(r"<span [^>]*>([^<]*)</span>", scale.group(1))


# Durations and the axis


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.038, "38 ms"),
        (0.9996, "1.00 s"),
        (2.41, "2.41 s"),
        (12.44, "12.4 s"),
        (192, "3 min 12 s"),
        (3720, "1 h 02 min"),
    ],
)
def test_a_duration_is_written_in_the_unit_that_suits_it(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


@pytest.mark.parametrize(
    ("seconds", "first", "unit"),
    [(0.012, "0 ms", " ms"), (0.049, "0 ms", " ms"), (1.9, "0 ms", " ms"), (10, "0 s", " s")],
)
def test_the_axis_of_a_short_run_has_distinct_labels_in_a_readable_unit(
    seconds: float, first: str, unit: str
) -> None:
    ticks = axis_ticks(seconds)
    labels = [label for _, label in ticks]
    assert labels[0] == first and len(ticks) >= 3
    assert len(set(labels)) == len(labels), labels
    assert all(label.endswith(unit) for label in labels)
    assert all(0 <= percent <= 100 for percent, _ in ticks)


def test_the_axis_of_long_runs_counts_minutes_then_hours() -> None:
    assert axis_ticks(3000)[1][1] == "10 min"
    assert axis_ticks(5 * 3600)[-1][1].endswith(" h")


def test_a_run_of_30_ms_shows_ms_ticks_and_durations_on_its_page(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    execution = make_execution(ended_at=at(0.030))
    make_run(execution, "prepare", span=(0.002, 0.040))

    html = _fragment(client, execution)

    labels = _axis(html)
    assert labels[:3] == ["0 ms", "10 ms", "20 ms"], labels
    assert "{#" not in _page(client, execution)  # no template comment leaks into the page
    assert len(set(labels)) == len(labels)
    assert re.search(r'data-testid="execution-duration"[^>]*>30 ms</span>', html)
    assert re.search(r'data-testid="task-duration"[^>]*>38 ms</span>', html)


def test_a_running_execution_gives_the_page_the_instants_to_tick_from(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    started = timezone.now() - timedelta(seconds=3)
    execution = make_execution(state=State.RUNNING, started_at=started, ended_at=None)
    run = make_run(execution, "prepare", state=State.RUNNING, span=None)
    TaskRun.objects.filter(pk=run.pk).update(started_at=started)
    done = make_run(execution, "fan", position=1, span=None)
    TaskRun.objects.filter(pk=done.pk).update(
        started_at=started, ended_at=started + timedelta(seconds=1)
    )

    html = _fragment(client, execution)

    since = str(round(started.timestamp() * 1000))
    duration = re.search(r'<span class="duration" data-testid="execution-duration"[^>]*>', html)
    assert duration and f'data-since="{since}"' in duration.group(0)
    assert "data-ticking" in duration.group(0)
    gantt = re.search(r'<table class="list gantt"[^>]*>', html)
    assert gantt and "data-live" in gantt.group(0) and "data-now=" in gantt.group(0)
    rows = dict(re.findall(r'data-task="(\w+)".*?(<span class="duration"[^>]*>)', html, re.S))
    assert "data-ticking" in rows["prepare"]  # still running: it ticks
    assert "data-ticking" not in rows["fan"]  # ended: its duration is final
    assert re.search(r'<span class="gantt-bar bar-RUNNING" data-start="\d+" data-end=""', html)


def test_an_ended_execution_does_not_tick(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution = make_execution()
    make_run(execution, "prepare", span=(0, 10))

    html = _fragment(client, execution)

    assert "data-ticking" not in html
    gantt = re.search(r'<table class="list gantt"[^>]*>', html)
    assert gantt and "data-live" not in gantt.group(0)
    assert gantt_rows(execution).live is False


def test_a_long_error_is_wrapped_in_a_box_of_its_own(client: Client, alice: Any) -> None:
    client.force_login(alice)
    error = "x" * 5000
    execution = make_execution(state=State.FAILED, error=error)
    make_run(execution, "prepare", state=State.FAILED, error=error)

    html = _fragment(client, execution)

    assert f'<div class="run-error error" data-testid="task-error">{error}</div>' in html
    assert f'<div class="run-error error" data-testid="execution-error">{error}</div>' in html


# Output files: previews


def _with_files(files: dict[str, bytes], source: str = PARALLEL_FLOW) -> tuple[Execution, dict]:
    execution = make_execution(source)
    run = make_run(execution, "prepare")
    uris = {
        name: storage_save(storage_uri(execution, run, name), data) for name, data in files.items()
    }
    TaskRun.objects.filter(pk=run.pk).update(outputs={"outputFiles": uris})
    return execution, uris


def _preview(client: Client, execution: Execution, uri: str) -> Any:
    return client.get(f"/executions/{execution.pk}/file/preview?path={quote(uri)}")


def _cells(html: str) -> list[list[str]]:
    return [
        [unescape(cell) for cell in re.findall(r"<t[hd]>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)
    ]


def test_a_csv_file_is_previewed_as_a_table_of_its_first_50_rows(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    rows = "".join(f"city{i},{i}\n" for i in range(120))
    execution, uris = _with_files({"weather.csv": f'city,"temp, °C"\n{rows}'.encode()})

    response = _preview(client, execution, uris["weather.csv"])

    assert response.status_code == 200
    html = response.content.decode()
    cells = _cells(html)
    assert cells[0] == ["city", "temp, °C"]
    assert cells[1] == ["city0", "0"] and len(cells) == 51
    assert "The first 50 rows." in html


def test_a_tsv_file_and_a_json_list_of_objects_are_tables(client: Client, alice: Any) -> None:
    client.force_login(alice)
    records = [{"name": "a", "rows": 1}, {"name": "b", "extra": True}]
    execution, uris = _with_files(
        {"t.tsv": b"a\tb\n1\t2\n", "r.json": json.dumps(records).encode()}
    )

    assert _cells(_preview(client, execution, uris["t.tsv"]).content.decode()) == [
        ["a", "b"],
        ["1", "2"],
    ]
    table = _cells(_preview(client, execution, uris["r.json"]).content.decode())
    assert table == [["name", "rows", "extra"], ["a", "1", ""], ["b", "", "true"]]


def test_other_json_is_indented_and_json_lines_become_a_table(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution, uris = _with_files(
        {"c.json": b'{"a": {"b": [1, 2]}}', "l.jsonl": b'{"x": 1}\n\n{"x": 2, "y": "z"}\n'}
    )

    shown = _preview(client, execution, uris["c.json"]).content.decode()
    assert '<pre class="json preview-text"' in shown and "\n    &quot;b&quot;: [\n" in shown
    assert _cells(_preview(client, execution, uris["l.jsonl"]).content.decode()) == [
        ["x", "y"],
        ["1", ""],
        ["2", "z"],
    ]


def test_a_text_file_shows_its_first_lines(client: Client, alice: Any) -> None:
    client.force_login(alice)
    text = "".join(f"line {i}\n" for i in range(200)).encode()
    execution, uris = _with_files({"out.log": text})

    html = _preview(client, execution, uris["out.log"]).content.decode()

    shown = re.search(r'<pre class="preview-text"[^>]*>(.*?)</pre>', html, re.S)
    assert shown and shown.group(1).splitlines()[-1] == "line 49"
    assert "The first 50 lines." in html


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("bad.csv", b'a,b\n1,"unclosed\n', "cannot preview: malformed CSV"),
        ("bad.json", b'{"a": 1,,}', "cannot preview: invalid JSON"),
        ("bad.jsonl", b'{"a": 1}\nnot json\n', "cannot preview: line 2 is not JSON"),
        ("blob.bin", bytes(range(256)), "cannot preview: it is a binary file"),
        ("latin.txt", "café".encode("latin-1"), "cannot preview: it is not UTF-8 text"),
        ("empty.csv", b"", "cannot preview: the file is empty"),
    ],
)
def test_a_file_that_cannot_be_previewed_says_why(
    client: Client, alice: Any, name: str, content: bytes, why: str
) -> None:
    client.force_login(alice)
    execution, uris = _with_files({name: content})

    response = _preview(client, execution, uris[name])

    assert response.status_code == 200
    assert why in unescape(response.content.decode())


def test_a_1_gb_file_is_previewed_from_its_first_bytes_only(client: Client, alice: Any) -> None:
    client.force_login(alice)
    head = b"n,square\n" + b"".join(f"{i},{i * i}\n".encode() for i in range(40_000))
    execution, uris = _with_files({"big.csv": head, "big.json": b"[" + b"1," * 1000 + b"1]"})
    for name in ("big.csv", "big.json"):  # sparse: a gigabyte that costs no disk
        path = flowsite_storage().path(uris[name].removeprefix("kestra:///"))
        with open(path, "r+b") as file:
            file.truncate(1 << 30)

    tracemalloc.start()
    try:
        table = _preview(client, execution, uris["big.csv"]).content.decode()
        refused = _preview(client, execution, uris["big.json"]).content.decode()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert len(_cells(table)) == 51 and "The first 50 rows." in table
    assert "cannot preview: a JSON file larger than 1024 KB is not previewed" in refused
    assert peak < 8 * 1024 * 1024, f"{peak} bytes held to preview a 1 GB file"


def test_an_image_is_shown_through_img_and_an_svg_cannot_run_script(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
    execution, uris = _with_files({"chart.svg": svg, "dot.png": b"\x89PNG\r\n\x1a\n"})

    for name in ("chart.svg", "dot.png"):
        html = _preview(client, execution, uris[name]).content.decode()
        image = re.search(
            r'<img class="preview-image" data-testid="preview-image" src="([^"]+)"', html
        )
        assert image, html
        assert "<svg" not in html and "<script" not in html
        served = client.get(unescape(image.group(1)))
        assert served.status_code == 200
        assert served["Content-Security-Policy"].startswith("sandbox")
        assert served["X-Content-Type-Options"] == "nosniff"
        assert served["Content-Disposition"].startswith("attachment")
        last = unescape(image.group(1))
    assert client.get(last)["Content-Type"] == "image/png"


def test_previews_are_refused_to_whoever_may_not_view_the_execution(
    client: Client, alice: Any, bob: Any, charlie: Any
) -> None:
    execution, uris = _with_files({"weather.csv": b"a\n1\n"})  # in dev: bob is not in it
    other, other_uris = _with_files({"other.csv": b"a\n2\n"})

    for outsider in (bob, charlie):
        client.force_login(outsider)
        assert _preview(client, execution, uris["weather.csv"]).status_code == 404
    client.force_login(alice)
    assert _preview(client, execution, other_uris["other.csv"]).status_code == 404
    assert _preview(client, execution, "kestra:///dev/../../etc/passwd").status_code == 400
    assert _preview(client, execution, "").status_code == 400


def test_the_page_offers_a_preview_of_each_stored_file(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution, uris = _with_files({"weather.csv": b"a\n1\n"})

    html = _page(client, execution)

    preview = re.search(r'<details class="file-preview"([^>]*)data-preview="([^"]+)"', html)
    assert preview
    assert client.get(unescape(preview.group(2))).status_code == 200
    assert " open" not in preview.group(1)  # closed until the reader opens it


# Labels


def _labels_post(client: Client, execution: Execution, pairs: list[tuple[str, str]]) -> Any:
    data = {"key": [k for k, _ in pairs], "value": [v for _, v in pairs]}
    return client.post(f"/executions/{execution.pk}/labels/", data, HTTP_HX_REQUEST="true")


def test_an_editor_adds_changes_and_removes_labels_and_system_ones_stay(
    client: Client, bob: Any
) -> None:
    client.force_login(bob)  # Editor of company.data
    execution = make_execution(
        COMPANY_FLOW, labels={"team": "data", "old": "x", "system.correlationId": "abc"}
    )

    response = _labels_post(client, execution, [("team", "web"), ("env", "prod"), ("", "")])

    assert response.status_code == 200
    execution.refresh_from_db()
    assert execution.labels == {"team": "web", "env": "prod", "system.correlationId": "abc"}
    html = response.content.decode()
    assert ">team: web</a>" in html and ">old: x</a>" not in html
    entry = AuditEntry.objects.get(action="labelled", object_id=execution.pk)
    assert entry.actor == bob and "-old" in entry.summary and "team=web" in entry.summary


@pytest.mark.parametrize(
    ("pairs", "why"),
    [
        ([("system.username", "me")], "System labels can only be set by Flowsite itself"),
        ([("team", "")], "The label team needs a value"),
        ([("", "lonely")], "A label needs a key"),
    ],
)
def test_a_bad_label_is_refused_with_the_reason(
    client: Client, alice: Any, pairs: list[tuple[str, str]], why: str
) -> None:
    client.force_login(alice)
    execution = make_execution(labels={"team": "data"})

    response = _labels_post(client, execution, pairs)

    html = unescape(response.content.decode())
    assert why in html
    assert f'value="{pairs[0][1]}"' in html or not pairs[0][1]  # what was typed stays
    execution.refresh_from_db()
    assert execution.labels == {"team": "data"}


def test_a_viewer_sees_labels_without_a_form_and_cannot_post(client: Client, charlie: Any) -> None:
    RoleBinding.objects.create(namespace="dev", user=charlie, role=Role.VIEWER)
    client.force_login(charlie)
    execution = make_execution(labels={"team": "data"})

    html = _page(client, execution)

    assert ">team: data</a>" in html and 'data-testid="labels-form"' not in html
    assert _labels_post(client, execution, [("team", "web")]).status_code == 403


def test_an_outsider_gets_404_for_the_labels_form(client: Client, bob: Any) -> None:
    client.force_login(bob)
    execution = make_execution(labels={"team": "data"})  # in dev

    assert _labels_post(client, execution, [("team", "web")]).status_code == 404
    execution.refresh_from_db()
    assert execution.labels == {"team": "data"}


def test_an_editor_sees_the_labels_form(client: Client, alice: Any) -> None:
    client.force_login(alice)
    html = _page(client, make_execution(labels={"team": "data", "system.username": "alice"}))

    form = re.search(r'<form [^>]*data-testid="labels-form">(.*?)</form>', html, re.S)
    assert form
    assert 'value="team"' in form.group(1) and "system.username" not in form.group(1)


def _api_labels(client: Client, execution: Execution, body: Any, user: str = "alice") -> Any:
    return client.post(
        f"/api/v1/executions/{execution.pk}/labels",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(user),
    )


def test_the_api_adds_or_updates_labels_of_an_ended_execution_as_kestra_does(
    client: Client, alice: Any
) -> None:
    execution = make_execution(labels={"team": "data", "keep": "me", "system.username": "alice"})

    response = _api_labels(
        client,
        execution,
        [{"key": "team", "value": "web"}, {"key": "new", "value": "1"},
         {"key": "system.username", "value": "alice"}],
    )  # fmt: skip

    assert response.status_code == 200, response.content
    expected = {"team": "web", "keep": "me", "new": "1", "system.username": "alice"}
    assert {item["key"]: item["value"] for item in response.json()["labels"]} == expected
    execution.refresh_from_db()
    assert execution.labels == expected
    assert AuditEntry.objects.filter(action="labelled", object_id=execution.pk).exists()
    again = _api_labels(client, execution, [{"key": "x", "value": "1"}])
    assert again.status_code == 200 and "x" in Execution.objects.get(pk=execution.pk).labels


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([{"key": "system.correlationId", "value": "forged"}], "System labels can only be set"),
        ({"key": "a", "value": "b"}, "The body must be a JSON list of {key, value}"),
        ([{"key": "a"}], "The label a needs a value"),
    ],
)
def test_the_api_refuses_bad_labels(client: Client, alice: Any, body: Any, message: str) -> None:
    execution = make_execution(labels={"system.correlationId": "abc"})

    response = _api_labels(client, execution, body)

    assert response.status_code == 400
    assert message in response.json()["message"]


def test_the_api_refuses_labels_on_a_running_execution_and_hides_others(
    client: Client, alice: Any, bob: Any, charlie: Any
) -> None:
    running = make_execution(state=State.RUNNING, ended_at=None)
    response = _api_labels(client, running, [{"key": "a", "value": "b"}])
    assert response.status_code == 400
    assert response.json()["message"] == "The execution is not terminated"

    ended = make_execution()  # in dev
    for outsider in ("bob", "charlie"):
        assert _api_labels(client, ended, [{"key": "a", "value": "b"}], outsider).status_code == 404
    RoleBinding.objects.create(namespace="dev", user=charlie, role=Role.VIEWER)
    assert _api_labels(client, ended, [{"key": "a", "value": "b"}], "charlie").status_code == 403
    assert Execution.objects.get(pk=ended.pk).labels == {}


# Links between executions


def test_the_facts_link_parent_children_original_replays_and_upstream_with_states(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    parent = make_execution()
    call = make_run(parent, "prepare", task_type="io.kestra.plugin.core.flow.Subflow")
    child = make_execution(parent_task_run=call, state=State.FAILED)
    replay = make_execution(original_id=parent.pk, state=State.RUNNING, ended_at=None)
    downstream = make_execution(
        trigger={
            "id": "after",
            "type": "io.kestra.plugin.core.trigger.Flow",
            "variables": {"executionId": parent.pk, "state": "SUCCESS"},
        }
    )

    html = _page(client, parent)
    assert re.search(
        rf'href="/executions/{child.pk}/" data-testid="child-execution">.*?state-FAILED', html
    )
    assert re.search(
        rf'href="/executions/{replay.pk}/" data-testid="replay-execution">.*?state-RUNNING', html
    )
    child_html = _page(client, child)
    assert re.search(
        rf'href="/executions/{parent.pk}/" data-testid="parent-execution">.*?state-SUCCESS',
        child_html,
    )
    assert f'href="/executions/{parent.pk}/" data-testid="original-execution"' in _page(
        client, replay
    )
    downstream_html = _page(client, downstream)
    assert f'href="/executions/{parent.pk}/" data-testid="upstream-execution"' in downstream_html
    assert 'href="/flows/dev/fan-out/#flow-triggers"' in downstream_html


def test_a_related_execution_the_reader_may_not_see_is_not_named(client: Client, bob: Any) -> None:
    client.force_login(bob)
    mine = make_execution(COMPANY_FLOW)
    hidden_replay = make_execution(original_id=mine.pk)  # in dev, which bob cannot see
    call = make_run(mine, "prepare", task_type="io.kestra.plugin.core.flow.Subflow")
    hidden_child = make_execution(parent_task_run=call)

    html = _page(client, mine)

    assert hidden_replay.pk not in html and hidden_child.pk not in html
