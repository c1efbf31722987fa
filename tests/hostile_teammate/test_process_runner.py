"""bob, Editor of company.data, with the Process runner: what his task can reach of the
worker's host. Real Process runs through a real django-q2 worker (as root here and in
CI, so isolation is on), and the superuser's switch that makes it a privilege."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent, indent
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from accounts.models import AuditEntry, Role, RoleBinding
from executions.lifecycle import execution_kill, execution_start
from executions.models import Execution, LogLine, State, TaskRun
from executions.runners.firewall import server_addresses
from flows.models import Flow
from namespaces.models import ProcessRunnerGrant
from namespaces.process_runner import process_runner_switch
from tests.conftest import FlowsiteProcess, basic_auth, start_worker, wait_until
from tests.flows_helpers import PROCESS, finished, messages
from tests.test_settings import settings_with

pytestmark = pytest.mark.django_db(transaction=True)

CANARY = "canary-of-the-worker-environment"
ADMIN_PASSWORD = "the-admins-password-h11"
DEFAULT_NAMESPACES = "company.team"  # FLOWSITE_PROCESS_NAMESPACES' default: the examples'
# All a Process task may find in its environment (the shell adds PWD, SHLVL and _).
TASK_VARIABLES = {
    *("PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "PWD", "SHLVL", "_"),
    *("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"),
    *(
        "PYTHONUNBUFFERED",
        "PYTHONUSERBASE",
        "PIP_ROOT_USER_ACTION",
        "PIP_DISABLE_PIP_VERSION_CHECK",
    ),
    *("FLOWSITE_EXECUTION_ID", "FLOWSITE_TASKRUN_ID", "WORKING_DIR", "VIRTUAL_ENV"),
}


@pytest.fixture(scope="module")
def worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[FlowsiteProcess]:
    """A worker with the default allowance and a few things in its environment that a
    task must never see."""
    process = start_worker(
        FLOWSITE_PROCESS_NAMESPACES=DEFAULT_NAMESPACES,
        FLOWSITE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        SERVER_CANARY=CANARY,
    )
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def process_runner_everywhere(settings: Any) -> None:
    """The suite allows every namespace; here the default holds."""
    settings.FLOWSITE_PROCESS_NAMESPACES = [DEFAULT_NAMESPACES]


@pytest.fixture
def root(db: Any) -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.org", "root-pass")


@pytest.fixture
def bob_may_use_process(root: Any, bob: Any) -> Any:
    """A superuser allowed company.data: bob's tasks run in processes, isolated."""
    process_runner_switch(actor=root, namespace="company.data", allowed=True)
    return bob


def python_flow(script: str, *, namespace: str = "company.data", flow_id: str = "probe") -> str:
    body = indent(dedent(script).strip() + "\n", " " * 6)
    return (
        f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n  - id: probe\n"
        f"    type: io.kestra.plugin.scripts.python.Script\n"
        f"    taskRunner:\n      type: {PROCESS}\n    script: |\n{body}"
    )


def run(source: str, user: Any) -> Execution:
    flow = Flow.save_source(source, author=user)
    return finished(execution_start(flow=flow, user=user))


def probe_reads(paths: list[str], user: Any) -> list[str]:
    """What bob's task could read of ``paths``: one line per path, READ or refused."""
    script = f"""
    import os
    for path in {paths!r}:
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                open(path, "rb").read()
            print("READ", path)
        except OSError as exc:
            print("refused", path, type(exc).__name__)
    """
    return messages(run(python_flow(script), user), "stdout")


def test_bobs_process_task_sees_none_of_the_servers_environment(worker, bob_may_use_process):
    script = """
    import os
    print("uid", os.getuid(), "gid", os.getgid(), "groups", os.getgroups())
    for name in sorted(os.environ):
        print("var", name)
    values = " ".join(os.environ.values())
    print("canary" if "canary-of" in values or "the-admins-password" in values else "clean")
    """
    execution = run(python_flow(script), bob_may_use_process)
    lines = messages(execution, "stdout")
    assert execution.state == State.SUCCESS, messages(execution)
    assert "clean" in lines
    names = {line.removeprefix("var ") for line in lines if line.startswith("var ")}
    assert not {"DATABASE_URL", "FLOWSITE_ADMIN_PASSWORD", "SERVER_CANARY"} & names
    assert names <= TASK_VARIABLES, names - TASK_VARIABLES
    assert {"PATH", "HOME", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT"} <= names
    [ids] = [line.split() for line in lines if line.startswith("uid ")]
    uid = int(ids[1])
    assert uid in django_settings.FLOWSITE_PROCESS_UID_RANGE
    assert ids[3] == ids[1] and ids[5] == "[]"  # its own group, no other


def test_bob_cannot_read_the_key_the_database_or_the_data_directory(worker, bob_may_use_process):
    data = Path(django_settings.DATA_DIR)
    paths = [str(data), str(data / "secret_key"), str(data / "storage")]
    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        paths.append(str(database["NAME"]))
    assert all(Path(path).exists() for path in paths)  # refused, not missing
    lines = probe_reads(paths, bob_may_use_process)
    assert lines == [f"refused {path} PermissionError" for path in paths]


def test_bob_cannot_plant_code_in_the_python_environment_tasks_share(worker, bob_may_use_process):
    script = """
    import os, sysconfig
    target = os.path.join(sysconfig.get_paths()["purelib"], "sitecustomize.py")
    try:
        open(target, "w").write("print('planted')")
        print("WROTE", target)
    except OSError as exc:
        print("refused", type(exc).__name__)
    """
    lines = messages(run(python_flow(script), bob_may_use_process), "stdout")
    assert lines == ["refused PermissionError"]


def test_bob_cannot_read_another_namespaces_stored_files(worker, root, bob_may_use_process):
    writer = (
        f"id: report\nnamespace: company.team\ntasks:\n  - id: w\n    type: shell.Commands\n"
        f"    taskRunner:\n      type: {PROCESS}\n    outputFiles: [report.csv]\n"
        "    commands:\n      - echo team-confidential > report.csv\n"
    )
    assert run(writer, root).state == State.SUCCESS
    location = Path(django_settings.STORAGES["flowsite"]["OPTIONS"]["location"])
    stored = max(location.rglob("report.csv"), key=lambda path: path.stat().st_mtime)
    assert stored.read_bytes() == b"team-confidential\n"
    paths = [str(stored), str(stored.parent), str(location)]
    lines = probe_reads(paths, bob_may_use_process)
    assert lines == [f"refused {path} PermissionError" for path in paths]


def test_bob_cannot_read_another_running_tasks_environment(worker, root, bob_may_use_process):
    victim_source = (
        f"id: victim\nnamespace: company.team\ntasks:\n  - id: v\n    type: shell.Commands\n"
        f"    taskRunner:\n      type: {PROCESS}\n    env:\n      TEAM_TOKEN: tok-team-1234\n"
        "    commands:\n      - echo pid=$$ uid=$(id -u)\n      - sleep 60\n"
    )
    victim = execution_start(flow=Flow.save_source(victim_source, author=root), user=root)
    line = wait_until(
        lambda: LogLine.objects.filter(execution=victim, message__startswith="pid=").first(),
        what="the victim task to print its pid",
        timeout=60,
    )
    pid, victim_uid = (part.split("=")[1] for part in line.message.split())
    victim_run = TaskRun.objects.get(execution=victim)
    workdir = Path(django_settings.FLOWSITE_PROCESS_DIR) / "work" / victim_run.pk
    assert b"tok-team-1234" in Path(f"/proc/{pid}/environ").read_bytes()  # root reads it
    script = f"""
    import os
    print("uid", os.getuid())
    for path in ["/proc/{pid}/environ", "{workdir}", "{workdir}.tmp/script"]:
        try:
            data = os.listdir(path) if os.path.isdir(path) else open(path, "rb").read()
            print("READ", path, "tok-team" in repr(data))
        except OSError as exc:
            print("refused", path, type(exc).__name__)
    print("cmdline", "tok-team" in open("/proc/{pid}/cmdline").read())
    """
    try:
        lines = messages(run(python_flow(script), bob_may_use_process), "stdout")
    finally:
        execution_kill(execution_id=victim.pk)
        finished(victim)
    assert lines[0] != f"uid {victim_uid}"  # two tasks never share a user
    assert [line.split()[::2] for line in lines[1:4]] == [["refused", "PermissionError"]] * 3
    assert lines[4] == "cmdline False"


def test_bob_cannot_make_himself_admin_by_writing_the_database(worker, bob_may_use_process):
    if connection.vendor != "sqlite":
        pytest.skip("the database is a file only with SQLite (see the README on PostgreSQL)")
    team = bob_may_use_process.teams.get()
    script = f"""
    import sqlite3
    try:
        db = sqlite3.connect({str(connection.settings_dict["NAME"])!r})
        db.execute(
            "insert into accounts_rolebinding (namespace, role, team_id, created_at) "
            "values ('dev', 4, {team.pk}, '2026-01-01 00:00:00')"
        )
        db.commit()
        print("WROTE")
    except sqlite3.Error as exc:
        print("refused", exc)
    """
    lines = messages(run(python_flow(script), bob_may_use_process), "stdout")
    assert lines and lines[0].startswith("refused"), lines
    assert not RoleBinding.objects.filter(namespace="dev", team=team).exists()
    assert not RoleBinding.objects.filter(role=Role.ADMIN, team=team).exists()


def test_bob_cannot_reach_the_database_or_redis_over_the_network(worker, bob_may_use_process):
    servers = server_addresses()
    if not servers:
        pytest.skip("the embedded default has no database or Redis on the network")
    with socket.create_server(("127.0.0.1", 0)) as control:  # any other port stays open
        targets = [*servers, control.getsockname()[:2]]
        script = f"""
        import socket
        for host, port in {targets!r}:
            try:
                socket.create_connection((host, port), 5).close()
                print("CONNECTED", port)
            except OSError as exc:
                print("refused", port, type(exc).__name__)
        """
        lines = messages(run(python_flow(script), bob_may_use_process), "stdout")
    refused = [f"refused {port} ConnectionRefusedError" for _, port in servers]
    assert lines == [*refused, f"CONNECTED {targets[-1][1]}"]


def test_bobs_flow_asking_for_process_where_not_allowed_is_refused_at_save(client, bob):
    source = python_flow("print('hi')", flow_id="sneaky")
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth("bob")
    response = client.post("/api/v1/flows", source, content_type="application/x-yaml")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert "Process runner is not allowed in namespace company.data" in error["message"]
    assert (error["line"], error["path"]) == (7, "tasks[0].taskRunner.type")
    assert not Flow.objects.filter(flow_id="sneaky").exists()
    validated = client.post("/api/v1/flows/validate", source, content_type="application/x-yaml")
    assert validated.json()[0]["errors"][0]["path"] == "tasks[0].taskRunner.type"
    client.force_login(bob)
    checked = client.post("/flows/check/", {"source": source}).json()
    assert [(e["line"], e["path"]) for e in checked["errors"]] == [(7, "tasks[0].taskRunner.type")]


def test_the_older_runner_spelling_and_nested_tasks_are_refused_too(db, bob):
    source = (
        "id: nested\nnamespace: company.data\ntasks:\n  - id: par\n    type: io.kestra.plugin.core.flow.Parallel\n"
        "    tasks:\n      - id: old\n        type: shell.Commands\n        runner: PROCESS\n"
        "        commands: [echo hi]\n"
    )
    with pytest.raises(Exception, match="Task 'old': The Process runner is not allowed"):
        Flow.save_source(source, author=bob)


def test_a_flow_saved_before_the_switch_went_off_fails_at_run(worker, root, bob_may_use_process):
    flow = Flow.save_source(python_flow("print('ran')", flow_id="before"), author=root)
    process_runner_switch(actor=root, namespace="company.data", allowed=False)
    execution = finished(execution_start(flow=flow, user=bob_may_use_process))
    assert execution.state == State.FAILED
    assert "ran" not in messages(execution)
    [run_row] = execution.task_runs.all()
    assert "Process runner is not allowed in namespace company.data" in run_row.error


def test_the_examples_run_out_of_the_box_under_the_default(worker, root):
    call_command("load_examples", verbosity=0)
    flow = Flow.objects.get(namespace="company.team", flow_id="files-between-tasks")
    execution = finished(execution_start(flow=flow, user=root))
    assert execution.state == State.SUCCESS, messages(execution)
    assert messages(execution) == ["rows=2"]


def test_only_a_superuser_flips_the_switch_and_it_is_audited(client, root, alice, charlie):
    url, api_url = "/namespaces/dev/access/process-runner/", "/api/v1/namespaces/dev/process-runner"
    client.force_login(alice)  # Admin of dev, not a superuser: the switch is not hers
    assert client.post(url, {"allowed": "1"}).status_code == 404
    page = client.get("/namespaces/dev/access/").content.decode()
    assert "Not allowed" in page and "Only a superuser changes this" in page
    client.logout()
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth("alice")
    assert (
        client.put(api_url, {"allowed": True}, content_type="application/json").status_code == 404
    )
    assert client.get(api_url).json()["allowed"] is False
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth("charlie")
    assert (
        client.put(api_url, {"allowed": True}, content_type="application/json").status_code == 404
    )
    assert client.get(api_url).status_code == 404
    del client.defaults["HTTP_AUTHORIZATION"]
    client.force_login(charlie)
    assert client.post(url, {"allowed": "1"}).status_code == 404
    assert not ProcessRunnerGrant.objects.exists() and not AuditEntry.objects.exists()

    client.force_login(root)
    assert "Allow the Process runner here" in client.get("/namespaces/dev/access/").content.decode()
    switched = client.post(url, {"allowed": "1"}, headers={"HX-Request": "true"})
    assert switched.status_code == 200  # the part alone, for htmx to swap in
    assert "Allowed here by a superuser" in switched.content.decode()
    assert "Stop allowing the Process runner" in switched.content.decode()
    child_page = client.get("/namespaces/dev.etl/access/").content.decode()
    assert "Allowed on" in child_page and "Stop allowing" not in child_page
    assert client.post(url, {"allowed": "2"}).status_code == 422
    client.logout()
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth("root", "root-pass")
    state = client.get("/api/v1/namespaces/dev.etl/process-runner").json()
    assert (state["allowed"], state["allowedOn"], state["switchedOn"]) == (True, "dev", False)
    answer = client.put(api_url, {"allowed": False}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["allowed"] is False
    bad = client.put(api_url, {"allowed": "yes"}, content_type="application/json")
    assert bad.status_code == 422 and '"allowed": true' in bad.json()["message"]
    entries = list(
        AuditEntry.objects.order_by("id").values_list("actor_name", "action", "namespace")
    )
    assert entries == [("root", "allowed", "dev"), ("root", "disallowed", "dev")]


@pytest.mark.parametrize("value", ["abc", "62000-61000", "0-999", "100-2000"])
def test_a_bad_range_of_task_user_ids_stops_start_up(tmp_path: Path, value: str) -> None:
    result = settings_with(tmp_path, FLOWSITE_PROCESS_UIDS=value)
    assert result.returncode != 0
    assert f"FLOWSITE_PROCESS_UIDS={value!r} must be a range FIRST-LAST" in result.stderr


def test_what_bobs_task_leaves_running_is_killed_when_it_ends(worker, bob_may_use_process):
    source = (
        "id: daemon\nnamespace: company.data\ntasks:\n  - id: d\n    type: shell.Commands\n"
        f"    taskRunner:\n      type: {PROCESS}\n    commands:\n"
        "      - setsid sleep 300 > /dev/null 2>&1 < /dev/null &\n      - echo pid=$!\n"
    )
    execution = run(source, bob_may_use_process)
    assert execution.state == State.SUCCESS, messages(execution)
    [line] = messages(execution)
    stat = Path(f"/proc/{line.removeprefix('pid=')}/stat")

    def gone() -> bool:  # or a zombie left to a parent that does not reap
        return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"

    wait_until(gone, timeout=5, what="the daemon bob's task left to be killed")
