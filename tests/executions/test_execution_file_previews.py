"""The execution page's previews of stored files: tables, indented JSON, text and
images, read within bounds, refused to whoever may not view the execution."""

from __future__ import annotations

import json
import re
import tracemalloc
from html import unescape
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from executions.models import Execution, TaskRun
from executions.storage import flowsite_storage, storage_save, storage_uri
from tests.executions.helpers import (
    PARALLEL_FLOW,
    execution_page,
    make_execution,
    make_run,
)

pytestmark = pytest.mark.django_db


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

    html = execution_page(client, execution)

    preview = re.search(r'<details class="file-preview"([^>]*)data-preview="([^"]+)"', html)
    assert preview
    assert client.get(unescape(preview.group(2))).status_code == 200
    assert " open" not in preview.group(1)  # closed until the reader opens it
