"""The KV store and namespace files as flows use them, on a real django-q2 worker: the
examples kv-store and namespace-files, the kv and namespace file tasks, namespaceFiles on
both runners, and the kv() and read() functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from executions.lifecycle import execution_start
from executions.models import Execution, State
from executions.storage import storage_read
from flows.language import FlowInvalid, parse_flow
from flows.models import Flow
from namespaces.files import entry_get, file_write
from namespaces.kv import kv_set, kv_typed
from namespaces.models import KeyValue
from tests.flows_helpers import PROCESS, finished, flow_yaml, messages
from tests.hostile_teammate.helpers import failure

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"


def run_example(name: str) -> Execution:
    flow = Flow.save_source((EXAMPLES / f"{name}.yml").read_text())
    return finished(execution_start(flow=flow), timeout=120)


def run_flow(tasks: str, namespace: str = "dev") -> Execution:
    flow = Flow.save_source(flow_yaml(tasks, namespace=namespace))
    return finished(execution_start(flow=flow), timeout=120)


def outputs(execution: Execution, task_id: str) -> dict:
    return execution.task_runs.get(task_id=task_id).outputs


def test_the_kv_store_example_counts_its_runs_and_reads_them_back_with_kv(worker) -> None:
    first = run_example("kv-store")
    assert first.state == State.SUCCESS, failure(first)
    day = first.created_at.strftime("%Y-%m-%d")
    assert f"Run 1 on {day}; no missing key" in messages(first)
    assert outputs(first, "keys") == {"keys": ["run_count", "run_last_day"]}
    second = run_example("kv-store")
    assert f"Run 2 on {day}; no missing key" in messages(second)
    count = KeyValue.objects.get(namespace="company.team", key="run_count")
    assert (count.type, count.value, count.expires_at) == ("NUMBER", 2, None)
    assert count.description == "How many times kv-store ran"
    stamp = KeyValue.objects.get(namespace="company.team", key="run_last_day")
    assert (stamp.type, stamp.value) == ("DATE", day)
    assert stamp.expires_at is not None  # ttl: P30D


@pytest.mark.docker
def test_the_namespace_files_example_runs_code_kept_in_the_namespace(worker, docker_engine) -> None:
    helpers = "def greet(name):\n    return f'Hello {name} from a namespace file'\n"
    report = (
        "import os\nfrom helpers import greet\n"
        "print(greet('team'))\n"
        "print('drafts here:', os.path.exists('scripts/drafts/wip.py'))\n"
        "print('queries here:', os.path.exists('queries/top_customers.sql'))\n"
    )
    for path, content in {
        "scripts/helpers.py": helpers,
        "scripts/report.py": report,
        "scripts/drafts/wip.py": "raise SystemExit('a draft ran')\n",
        "queries/top_customers.sql": "SELECT name FROM customers LIMIT 3",
    }.items():
        file_write(namespace="company.team", path=path, content=content.encode())
    execution = run_example("namespace-files")
    assert execution.state == State.SUCCESS, failure(execution)
    lines = messages(execution)
    assert "Hello team from a namespace file" in lines
    assert "drafts here: False" in lines  # excluded
    assert "queries here: False" in lines  # not included
    assert lines[-1] == "SELECT name FROM customers LIMIT 3"  # read()


def test_namespace_files_reach_a_process_runner_and_input_files_win_over_them(worker) -> None:
    file_write(namespace="dev", path="data/greeting.txt", content=b"from the namespace")
    file_write(namespace="dev", path="data/other.txt", content=b"replaced")
    execution = run_flow(
        f"""
        - id: show
          type: io.kestra.plugin.scripts.shell.Commands
          taskRunner:
            type: {PROCESS}
          namespaceFiles:
            enabled: true
          inputFiles:
            data/other.txt: from inputFiles
          commands:
            - cat data/greeting.txt; echo
            - cat data/other.txt; echo
        """
    )
    assert execution.state == State.SUCCESS, failure(execution)
    assert messages(execution) == ["from the namespace", "from inputFiles"]


def test_namespace_files_stay_out_unless_enabled(worker) -> None:
    file_write(namespace="dev", path="secret-plan.txt", content=b"plan")
    execution = run_flow(
        f"""
        - id: look
          type: io.kestra.plugin.scripts.shell.Commands
          taskRunner:
            type: {PROCESS}
          namespaceFiles:
            enabled: false
          commands:
            - test -e secret-plan.txt && echo present || echo absent
        """
    )
    assert messages(execution) == ["absent"]


def test_kv_tasks_keep_typed_values_and_fail_with_a_clear_message(worker) -> None:
    execution = run_flow(
        """
        - id: settings
          type: io.kestra.plugin.core.kv.Set
          key: settings
          value: '{"retries": 3, "regions": ["eu", "us"]}'
          kvType: JSON
        - id: flag
          type: io.kestra.plugin.core.kv.Set
          key: enabled
          value: "true"
          kvType: BOOLEAN
        - id: window
          type: io.kestra.plugin.core.kv.Set
          key: window
          value: PT15M
          kvType: DURATION
        - id: read_back
          type: io.kestra.plugin.core.kv.Get
          key: settings
        - id: use
          type: io.kestra.plugin.core.log.Log
          message: "{{ kv('settings').regions[1] }} {{ kv('enabled') }} {{ kv('window') }}"
        - id: drop
          type: io.kestra.plugin.core.kv.Delete
          key: window
        - id: drop_again
          type: io.kestra.plugin.core.kv.Delete
          key: window
        - id: keep
          type: io.kestra.plugin.core.kv.Set
          key: enabled
          value: "false"
          overwrite: false
          allowFailure: true
        """
    )
    assert execution.state == State.WARNING
    assert outputs(execution, "read_back") == {"value": {"retries": 3, "regions": ["eu", "us"]}}
    assert "us true PT15M" in messages(execution)
    assert outputs(execution, "drop") == {"deleted": True}
    assert outputs(execution, "drop_again") == {"deleted": False}
    assert "it exists and overwrite is false" in failure(execution)
    assert KeyValue.objects.get(namespace="dev", key="enabled").value is True


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (
            "type: io.kestra.plugin.core.kv.Get\n  key: nothing\n  errorOnMissing: true",
            "No value for key 'nothing' in namespace dev and errorOnMissing is true",
        ),
        (
            "type: io.kestra.plugin.core.kv.Set\n  key: n\n  value: many\n  kvType: NUMBER",
            "The value for kvType NUMBER is not valid JSON",
        ),
        (
            "type: io.kestra.plugin.core.kv.Set\n  key: ../up\n  value: x",
            "The KV key '../up' must start with a letter or digit",
        ),
        (
            "type: io.kestra.plugin.core.log.Log\n  message: \"{{ kv('nothing') }}\"",
            "No KV key nothing in namespace dev",
        ),
    ],
    ids=["get-missing", "not-a-number", "bad-key", "kv-missing"],
)
def test_a_kv_mistake_fails_the_task_naming_the_key_and_why(worker, task, expected) -> None:
    execution = run_flow(f"- id: step\n  {task}\n")
    assert execution.state == State.FAILED
    assert expected in failure(execution)


def test_kv_without_a_namespace_falls_back_to_the_parents_but_names_none_explicitly(
    worker,
) -> None:
    kv_set(namespace="company", key="region", typed=kv_typed("eu-west", None))
    kv_set(namespace="company.team", key="tier", typed=kv_typed("gold", None))
    kv_set(namespace="company", key="tier", typed=kv_typed("silver", None))
    execution = run_flow(
        """
        - id: say
          type: io.kestra.plugin.core.log.Log
          message: "{{ kv('region') }} {{ kv('tier') }}"
        - id: parent
          type: io.kestra.plugin.core.log.Log
          message: "{{ kv('tier', 'company') }}"
        """,
        namespace="company.team",
    )
    assert messages(execution)[0] == "eu-west gold"
    # Like variables, a parent's entries are inherited; naming the parent is a crossing.
    assert "namespace company.team may not reach the KV store and files of company" in failure(
        execution
    )


def test_file_tasks_upload_download_and_delete_namespace_files(worker) -> None:
    execution = run_flow(
        f"""
        - id: make
          type: io.kestra.plugin.scripts.shell.Commands
          taskRunner:
            type: {PROCESS}
          outputFiles: [out.csv]
          commands:
            - printf 'a,b\\n1,2\\n' > out.csv
        - id: upload
          type: io.kestra.plugin.core.namespace.UploadFiles
          namespace: dev
          destination: /reports
          filesMap:
            daily.csv: "{{{{ outputs.make.outputFiles['out.csv'] }}}}"
        - id: download
          type: io.kestra.plugin.core.namespace.DownloadFiles
          namespace: dev
          files: ["reports/**"]
        - id: show
          type: io.kestra.plugin.core.log.Log
          message: "{{{{ read('reports/daily.csv') | trim }}}}"
        - id: clean
          type: io.kestra.plugin.core.namespace.DeleteFiles
          namespace: dev
          files: "**.csv"
        """
    )
    assert execution.state == State.SUCCESS, failure(execution)
    downloaded = outputs(execution, "download")["files"]
    assert list(downloaded) == ["/reports/daily.csv"]
    assert storage_read(downloaded["/reports/daily.csv"]) == b"a,b\n1,2\n"
    assert "a,b\n1,2" in messages(execution)
    assert entry_get("dev", "reports/daily.csv") is None
    folder = entry_get("dev", "reports")
    assert folder is not None and folder.is_directory  # the folder stays, as in Kestra


def several_namespaces(block: str) -> Execution:
    file_write(namespace="company", path="conf.txt", content=b"company's")
    file_write(namespace="company.team", path="conf.txt", content=b"team's")
    return run_flow(
        f"""
        - id: show
          type: io.kestra.plugin.scripts.shell.Commands
          taskRunner:
            type: {PROCESS}
          namespaceFiles:
            namespaces: [company, company.team]
            {block}
          commands:
            - find . -name conf.txt | sort | while read f; do echo "$f $(cat $f)"; done
        """,
        namespace="company",
    )


@pytest.mark.parametrize(
    ("block", "lines", "warned"),
    [
        (
            "folderPerNamespace: true",
            ["./company.team/conf.txt team's", "./company/conf.txt company's"],
            False,
        ),
        ("ifExists: OVERWRITE", ["./conf.txt team's"], False),
        ("ifExists: IGNORE", ["./conf.txt company's"], False),
        ("ifExists: WARN", ["./conf.txt company's"], True),
    ],
)
def test_namespace_files_of_several_namespaces_follow_folder_per_namespace_and_if_exists(
    worker, block, lines, warned
) -> None:
    execution = several_namespaces(block)
    assert execution.state == State.SUCCESS, failure(execution)
    shown = messages(execution)
    assert [line for line in shown if line.startswith("./")] == lines
    warning = "namespaceFiles: conf.txt of company.team is also in company"
    assert any(warning in line for line in shown) == warned


def test_namespace_files_fail_on_a_clash_when_asked_or_on_a_namespace_out_of_reach(worker) -> None:
    clash = several_namespaces("ifExists: FAIL")
    assert clash.state == State.FAILED
    assert "conf.txt of company.team is also in company (ifExists: FAIL)" in failure(clash)
    file_write(namespace="dev", path="conf.txt", content=b"dev's")
    out_of_reach = run_flow(
        f"""
        - id: show
          type: io.kestra.plugin.scripts.shell.Commands
          taskRunner:
            type: {PROCESS}
          namespaceFiles:
            namespaces: [dev]
          commands:
            - cat conf.txt
        """,
        namespace="company",
    )
    assert out_of_reach.state == State.FAILED
    assert "namespace company may not reach the KV store and files of dev" in failure(out_of_reach)
    assert "dev's" not in messages(out_of_reach)


def test_namespace_files_true_is_the_short_form_and_a_misspelt_key_is_named() -> None:
    task = "- id: s\n  type: io.kestra.plugin.scripts.shell.Commands\n  commands: [ls]\n"
    short = parse_flow(flow_yaml(task + "  namespaceFiles: true\n"))
    assert short.tasks[0].model_dump(by_alias=True)["namespaceFiles"]["enabled"] is True
    with pytest.raises(FlowInvalid) as refused:
        parse_flow(flow_yaml(task + "  namespaceFiles:\n    inclde: ['*.py']\n"))
    assert str(refused.value) == (
        "line 9, column 5 at tasks[0].namespaceFiles.inclde: Unknown property 'inclde'"
    )
