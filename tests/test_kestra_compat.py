"""scripts/kestra_compat.py, the measurement of Kestra's own test flows on Flowsite, works:
tried here on a tiny tree of our own laid out as a Kestra checkout is (the real
measurement runs beside the suite, on a real checkout: ``make compat``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scripts import kestra_compat_run
from scripts.kestra_compat import _commit, _exported
from scripts.kestra_compat_flows import FlowFile, flows_collect, refusal_cause
from scripts.kestra_compat_report import (
    Expectation,
    OutputWanted,
    RunResult,
    expectations_load,
    report_render,
)
from scripts.kestra_expectations_draft import draft_toml, expectations_from_java

pytestmark = pytest.mark.django_db(transaction=True)

FLOWS = "core/src/test/resources/flows"

GREETING = """\
id: greeting
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.debug.Return
    format: Hello {{ inputs.who }}
inputs:
  - id: who
    type: STRING
"""

# Refused for a property no Kestra flow has, so that the test holds whatever Flowsite learns.
UNKNOWN_PROPERTY = """\
id: odd
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
    colour: blue
"""

OTHER_PLUGIN = """\
id: query
namespace: company.team
tasks:
  - id: select
    type: io.kestra.plugin.jdbc.postgresql.Query
    sql: select 1
"""

TEST_ONLY_TASK = """\
id: probe
namespace: company.team
tasks:
  - id: probe
    type: io.kestra.core.tasks.test.Probe
"""

NO_TASKS = "id: empty\nnamespace: company.team\n"

# A test in the shape of Kestra's JUnit tests, written for this one.
JAVA_TEST = """\
package company.team;

class GreetingTest {
    @Test
    void greets() throws Exception {
        Execution execution = runnerUtils.runOne(null, "company.team", "greeting", null,
            (f, e) -> Map.of("who", "Ada"));
        assertThat(execution.getTaskRunList(), hasSize(1));
        assertThat(execution.getState().getCurrent(), is(State.Type.SUCCESS));
        assertThat((String) execution.findTaskRunsByTaskId("hello").getFirst().getOutputs().get("value"), is("Hello Ada"));
    }
}
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    files = {
        f"{FLOWS}/valids/greeting.yaml": GREETING,
        f"{FLOWS}/valids/odd.yaml": UNKNOWN_PROPERTY,
        f"{FLOWS}/valids/query.yaml": OTHER_PLUGIN,
        f"{FLOWS}/valids/probe.yml": TEST_ONLY_TASK,
        f"{FLOWS}/invalids/empty.yaml": NO_TASKS,
        "core/src/test/java/io/kestra/core/tasks/test/Probe.java": (
            "package io.kestra.core.tasks.test;\n\npublic class Probe {}\n"
        ),
        "core/src/test/java/company/team/GreetingTest.java": JAVA_TEST,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def checked(checkout: Path) -> dict[str, FlowFile]:
    flows = flows_collect(checkout)
    for flow in flows:
        flow.errors = kestra_compat_run.flow_check(flow.text)
        flow.causes = [refusal_cause(m, p, flow.text) for m, p in flow.errors]
    return {flow.path.rsplit("/", 1)[-1]: flow for flow in flows}


def test_it_counts_only_flows_of_core_types_and_says_why_the_others_are_out(checkout) -> None:
    flows = checked(checkout)
    assert flows["greeting.yaml"].in_scope and flows["odd.yaml"].in_scope
    assert flows["query.yaml"].out_of_scope == (
        "other plugins: io.kestra.plugin.jdbc.postgresql.Query"
    )
    # Core by its name, but defined in Kestra's test sources: no user has it.
    assert "io.kestra.core.tasks.test.Probe" in flows["probe.yml"].out_of_scope
    assert not flows["empty.yaml"].expected_valid


def test_it_checks_each_flow_with_flowsites_parser_and_names_the_cause(checkout) -> None:
    flows = checked(checkout)
    assert flows["greeting.yaml"].accepted
    assert flows["odd.yaml"].causes == ["`colour` on log.Log"]
    assert not flows["empty.yaml"].accepted


def test_it_names_a_missing_task_type_as_the_cause() -> None:
    cause = refusal_cause(
        "Unknown task type 'io.kestra.plugin.core.flow.Nowhere'", "tasks[0].type", UNKNOWN_PROPERTY
    )
    assert cause == "missing task type flow.Nowhere"


def test_it_drafts_the_outcome_a_java_test_asserts_with_its_inputs(checkout) -> None:
    (asserted,) = expectations_from_java(checkout)
    assert (asserted.flow_id, asserted.state, asserted.task_runs) == ("greeting", "SUCCESS", 1)
    assert dict(asserted.inputs) == {"who": "Ada"}
    table = checkout / "expectations.toml"
    table.write_text(draft_toml([asserted]))
    (expectation,) = expectations_load(table)
    assert expectation.inputs == {"who": "Ada"} and expectation.state == "SUCCESS"
    assert expectation.outputs == (OutputWanted("hello", "value", "Hello Ada"),)


def test_it_runs_the_asserted_flows_on_a_real_worker_and_reports_each_mismatch(
    checkout, worker
) -> None:
    flows = checked(checkout)
    saved = kestra_compat_run.flows_save([flows["greeting.yaml"]])
    hello_ada = (OutputWanted("hello", "value", "Hello Ada"),)
    right = Expectation("company.team", "greeting", "SUCCESS", 1, {"who": "Ada"}, "", 1, hello_ada)
    wrong = Expectation(
        "company.team", "greeting", "FAILED", None, {"who": "Bob"}, "", 1, hello_ada
    )
    outcomes = kestra_compat_run.expectations_run(
        expectations=[right, wrong], saved=saved, timeout=60
    )
    runs = [RunResult(*outcome) for outcome in outcomes]
    assert [(r.state, r.task_runs, r.as_expected) for r in runs] == [
        ("SUCCESS", 1, True),
        ("SUCCESS", 1, False),
    ]

    report = report_render(list(flows.values()), runs, expectations=[right, wrong])
    assert "- In scope (valid, only core and script types): 2" in report
    assert "**Accepted: 1/2 (50.0 %)**" in report
    assert "| `colour` on log.Log | 1 | tasks | odd.yaml |" in report
    assert "**Ending as Kestra expects: 1/2 (50.0 %)**" in report
    assert (
        "| greeting | FAILED, ? task runs | SUCCESS, 1 task runs "
        "| hello.value is 'Hello Ada' (got 'Hello Bob') |"
    ) in report


def test_it_reads_a_bare_clone_by_exporting_the_test_sources_of_its_head(
    checkout, tmp_path
) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=checkout, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "tiny")
    git("clone", "-q", "--bare", ".", str(tmp_path / "bare.git"))

    exported = _exported(tmp_path / "bare.git", tmp_path / "exported")
    assert sorted(f.path for f in flows_collect(exported)) == sorted(
        f.path for f in flows_collect(checkout)
    )
    assert _commit(tmp_path / "bare.git").startswith(" at ")
