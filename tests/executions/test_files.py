"""inputFiles and outputFiles: files written into a task's working directory before it
runs, and files collected from it afterwards into the execution's storage.

The runner tests drive the real Process runner and real Docker containers; the flow
tests run whole executions through the worker job, with the storage on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from typing import IO, Any

import pytest

from executions.models import State
from executions.runners.base import RunResult, RunSpec, TaskError, drive
from executions.runners.docker import DockerRunner
from executions.runners.process import ProcessRunner
from executions.storage import (
    storage_open,
    storage_read,
    storage_save,
    storage_uri,
    uri_belongs_to,
    uri_execution_id,
)
from flows.language import FlowInvalid
from tests.flows_helpers import PROCESS, flow_yaml, messages, run_here, save_flow

BINARY = bytes(range(256)) * 4 + b"\x00\xff\r\n\x1b"  # every byte value, NULs, CR LF
BIG_BINARY = os.urandom(200 * 1024)  # past the size a heredoc may carry


class Sink:
    """Keeps what a runner says, as the worker's log writer would store it."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.system_lines: list[tuple[str, str]] = []

    def line(self, stream: str, text: str, level: str | None = None) -> None:
        self.lines.append((stream, text))

    def system(self, text: str, level: str = "INFO") -> None:
        self.system_lines.append((level, text))

    def flush_if_due(self) -> None:
        pass

    def flush(self) -> None:
        pass

    @property
    def stdout(self) -> list[str]:
        return [text for stream, text in self.lines if stream == "stdout"]


class Keeper:
    """Stores each collected file's bytes, as the storage would."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def __call__(self, name: str, content: IO[bytes]) -> str:
        self.files[name] = content.read()
        return f"kept:{name}"


def run(runner: Any, commands: list[str], **spec: Any) -> tuple[RunResult, Sink, Keeper]:
    sink, keeper = Sink(), Keeper()
    spec.setdefault("image", "python:3.11-slim")
    spec.setdefault("pull_policy", "NEVER")
    run_spec = RunSpec(
        execution_id="files-test",
        task_run_id=uuid.uuid4().hex[:22],
        task_id="t",
        commands=commands,
        **spec,
    )
    result = drive(runner, run_spec, sink, should_stop=lambda: False, keep_file=keeper)
    return result, sink, keeper


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


PRINT_SHA256 = (
    "python -c \"import hashlib,sys; [print(p, hashlib.sha256(open(p,'rb').read()).hexdigest()) "
    'for p in sys.argv[1:]]" '
)
MAKE_OUTPUTS = [
    "mkdir -p out/deep/er out/empty-dir.txt",
    "printf 'a,b\\n1,2\\n' > report.csv",
    "printf 'x\\n' > nested.csv && mkdir -p sub && cp nested.csv sub/nested.csv",
    "printf 'top' > out/top.txt",
    "printf 'deep' > out/deep/er/deep.txt",
    "printf 'not text' > out/deep/skip.bin",
    "ln -s /etc/hostname out/link.txt",
]
PATTERNS = ["*.csv", "out/**/*.txt", "nothing-*.parquet"]
EXPECTED_OUTPUTS = {
    "report.csv": b"a,b\n1,2\n",
    "nested.csv": b"x\n",
    "out/top.txt": b"top",
    "out/deep/er/deep.txt": b"deep",
}


@pytest.fixture(params=["process", "docker"])
def runner(request: Any) -> Any:
    if request.param == "docker":
        request.getfixturevalue("docker_engine")
        return DockerRunner()
    return ProcessRunner()


@pytest.mark.docker
def test_input_files_arrive_in_the_working_directory_byte_for_byte(runner: Any) -> None:
    files = {
        "hello.txt": "héllo\nwörld".encode(),  # no final newline
        "conf/app.ini": b"[app]\nname = flowsite\n",
        "data.bin": BINARY,
        "big.bin": BIG_BINARY,
    }
    result, sink, _ = run(runner, [PRINT_SHA256 + " ".join(files)], files=files)
    assert result.exit_code == 0, sink.lines
    assert sink.stdout == [f"{name} {sha256(content)}" for name, content in files.items()]


@pytest.mark.docker
def test_output_files_matching_the_globs_are_collected_and_others_left(runner: Any) -> None:
    result, sink, keeper = run(runner, MAKE_OUTPUTS, output_files=PATTERNS)
    assert result.exit_code == 0, sink.lines
    # *.csv stays at the top; ** crosses directories; directories and links are skipped.
    assert keeper.files == EXPECTED_OUTPUTS
    assert result.output_files == {name: f"kept:{name}" for name in EXPECTED_OUTPUTS}
    assert ("WARN", "outputFiles: no file matches 'nothing-*.parquet'") in sink.system_lines


@pytest.mark.docker
def test_a_whole_directory_and_a_file_named_exactly_are_collected(runner: Any) -> None:
    commands = ["mkdir -p out/a", "printf 1 > out/one", "printf 2 > out/a/two", "printf 3 > x"]
    _, _, keeper = run(runner, commands, output_files=["out/**", "x", "out/a/two"])
    assert keeper.files == {"out/one": b"1", "out/a/two": b"2", "x": b"3"}


@pytest.mark.docker
def test_a_file_collected_from_one_task_goes_into_the_next_as_bytes(runner: Any) -> None:
    _, _, first = run(runner, ["head -c 5000 /dev/urandom > blob.bin"], output_files=["*.bin"])
    blob = first.files["blob.bin"]
    result, sink, _ = run(runner, [PRINT_SHA256 + "in.bin"], files={"in.bin": blob})
    assert sink.stdout == [f"in.bin {sha256(blob)}"]


@pytest.mark.docker
@pytest.mark.parametrize("name", ["../escape.txt", "/etc/evil", "a/../../b", ""])
def test_an_input_file_outside_the_working_directory_is_refused(runner: Any, name: str) -> None:
    with pytest.raises(TaskError, match="must not contain|absolute|is empty"):
        run(runner, ["true"], files={name: "x"})


def test_a_docker_task_without_output_files_asks_for_no_archive(docker_engine: Any) -> None:
    result, _, keeper = run(DockerRunner(), ["printf x > a.csv"])
    assert result.exit_code == 0 and keeper.files == {} and result.output_files == {}


def test_a_killed_task_leaves_its_files_uncollected() -> None:
    sink, keeper = Sink(), Keeper()
    spec = RunSpec(
        execution_id="files-test",
        task_run_id=uuid.uuid4().hex[:22],
        task_id="t",
        commands=["printf x > a.csv", "sleep 30"],
        output_files=["*.csv"],
    )
    result = drive(ProcessRunner(), spec, sink, should_stop=lambda: True, keep_file=keeper)
    assert result.killed and keeper.files == {}


# --- Storage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "kestra:///dev/f/executions/x/../../../../etc/passwd",
        "kestra:////etc/passwd",
        "kestra:///dev//f",
        "file:///etc/passwd",
        "/etc/passwd",
        "kestra:///dev/f/./x",
    ],
)
def test_a_storage_uri_that_could_leave_the_storage_is_refused(uri: str) -> None:
    with pytest.raises(ValueError):
        storage_open(uri)
    with pytest.raises(ValueError):
        storage_save(uri, b"x")


def test_a_missing_file_is_not_found() -> None:
    with pytest.raises(FileNotFoundError):
        storage_read("kestra:///dev/f/executions/nobody/tasks/t/r/none.csv")


def test_uris_name_their_execution() -> None:
    uri = "kestra:///company/data/etl/executions/abc/tasks/t/r/out/a.csv"
    assert uri_execution_id(uri) == "abc"
    assert uri_execution_id("kestra:///dev/../x") is None


# --- Whole flows ----------------------------------------------------------------------


def script(task_id: str, commands: list[str], extra: str = "") -> str:
    lines = "".join(f"      - {json.dumps(command)}\n" for command in commands)
    return (
        f"  - id: {task_id}\n    type: io.kestra.plugin.scripts.shell.Commands\n"
        f"    taskRunner:\n      type: {PROCESS}\n{extra}    commands:\n{lines}"
    )


@pytest.mark.django_db
def test_output_files_are_stored_and_named_in_the_task_outputs() -> None:
    tasks = script(
        "make",
        ["mkdir -p out/x", "printf 'a,b' > r.csv", "printf deep > out/x/d.txt"],
        extra="    outputFiles:\n      - '*.csv'\n      - 'out/**/*.txt'\n",
    )
    execution = run_here(save_flow(flow_yaml(tasks, flow_id="files-out", namespace="dev.team")))
    assert execution.state == State.SUCCESS, messages(execution)
    run = execution.task_runs.get()
    files = run.outputs["outputFiles"]
    assert files == {
        "r.csv": storage_uri(execution, run, "r.csv"),
        "out/x/d.txt": storage_uri(execution, run, "out/x/d.txt"),
    }
    assert files["r.csv"] == (
        f"kestra:///dev/team/files-out/executions/{execution.pk}/tasks/make/{run.pk}/r.csv"
    )
    assert storage_read(files["r.csv"]) == b"a,b"
    assert storage_read(files["out/x/d.txt"]) == b"deep"
    assert uri_belongs_to(files["r.csv"], execution)


@pytest.mark.django_db
def test_input_files_are_written_before_the_commands_run() -> None:
    tasks = script(
        "read",
        ["cat data.csv", "cat conf/settings.ini"],
        extra=(
            "    inputFiles:\n      data.csv: |\n        a,b\n        1,2\n"
            "      conf/settings.ini: 'mode = fast'\n"
        ),
    )
    execution = run_here(save_flow(flow_yaml(tasks, flow_id="files-in")))
    assert execution.state == State.SUCCESS, messages(execution)
    assert messages(execution, "stdout") == ["a,b", "1,2", "mode = fast"]


@pytest.mark.django_db
def test_input_files_as_a_json_map_of_names_to_contents() -> None:
    tasks = script("read", ["cat a.txt"], extra='    inputFiles: \'{"a.txt": "from json"}\'\n')
    execution = run_here(save_flow(flow_yaml(tasks, flow_id="files-json")))
    assert messages(execution, "stdout") == ["from json"]


@pytest.mark.django_db
def test_a_later_task_reads_an_earlier_tasks_output_file_through_its_uri() -> None:
    # Needs the engine to render {{ outputs... }} in inputFiles before the task runs.
    produce = script(
        "produce",
        ["head -c 3000 /dev/urandom > blob.bin", "sha256sum blob.bin"],
        extra="    outputFiles: [blob.bin]\n",
    )
    consume = script(
        "consume",
        ["sha256sum copy.bin"],
        extra="    inputFiles:\n      copy.bin: \"{{ outputs.produce.outputFiles['blob.bin'] }}\"\n",
    )
    execution = run_here(save_flow(flow_yaml(produce + consume, flow_id="files-chain")))
    assert execution.state == State.SUCCESS, messages(execution)
    made, copied = messages(execution, "stdout")
    assert made.split()[0] == copied.split()[0]
    assert copied.endswith("copy.bin")


@pytest.mark.django_db
def test_an_input_file_from_another_namespace_is_refused() -> None:
    secret = script("keep", ["printf secret > s.txt"], extra="    outputFiles: [s.txt]\n")
    other = run_here(save_flow(flow_yaml(secret, flow_id="holder", namespace="company.hr")))
    uri = other.task_runs.get().outputs["outputFiles"]["s.txt"]
    thief = script("steal", ["cat s.txt"], extra=f"    inputFiles:\n      s.txt: '{uri}'\n")
    execution = run_here(save_flow(flow_yaml(thief, flow_id="thief", namespace="dev")))
    assert execution.state == State.FAILED
    assert (
        "inputFiles 's.txt' refused: namespace dev may not read files of company.hr; an Admin "
        "of company.hr can allow it on company.hr's Access page"
    ) in messages(execution)
    assert "secret" not in messages(execution, "stdout")


@pytest.mark.django_db
def test_a_missing_stored_input_file_fails_the_task_naming_it() -> None:
    earlier = run_here(save_flow(flow_yaml(script("t", ["true"]), flow_id="files-earlier")))
    uri = storage_uri(earlier, earlier.task_runs.get(), "gone.csv")
    tasks = script("t", ["cat gone.csv"], extra=f"    inputFiles:\n      gone.csv: '{uri}'\n")
    execution = run_here(save_flow(flow_yaml(tasks, flow_id="files-gone")))
    assert execution.state == State.FAILED
    assert f"inputFiles 'gone.csv': No file at {uri}" in messages(execution)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    outputFiles: ['../up.csv']\n", "outputFiles pattern '../up.csv' must be a relative"),
        ("    outputFiles: ['/etc/*']\n", "outputFiles pattern '/etc/*' must be a relative"),
        ("    inputFiles:\n      ../x: y\n", "inputFiles name '../x' must be a relative"),
    ],
)
def test_a_file_name_leaving_the_working_directory_is_refused_on_save(
    extra: str, message: str
) -> None:
    with pytest.raises(FlowInvalid) as caught:
        save_flow(flow_yaml(script("t", ["true"], extra=extra), flow_id="files-bad"))
    assert message in str(caught.value)
