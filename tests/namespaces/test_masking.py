"""Secret values hidden as ``******``: the function, and the log writer that stores lines."""

from __future__ import annotations

import pytest

from executions.lifecycle import execution_start
from executions.live import MAX_LINE, LogWriter
from executions.models import LogLine
from flows.models import Flow
from namespaces.masking import MASK, secret_mask


def test_each_occurrence_of_a_value_is_replaced() -> None:
    assert secret_mask("key=s3cret, again s3cret", ["s3cret"]) == f"key={MASK}, again {MASK}"


def test_a_line_without_any_value_is_returned_unchanged() -> None:
    assert secret_mask("nothing to hide", ["s3cret"]) == "nothing to hide"


def test_no_values_hide_nothing() -> None:
    assert secret_mask("plain", []) == "plain"


def test_matching_is_case_sensitive_beyond_the_upper_and_lower_cased_forms() -> None:
    assert secret_mask("S3cReT S3CRET s3cret", ["s3cret"]) == f"S3cReT {MASK} {MASK}"


def test_a_value_inside_a_longer_value_does_not_leave_the_longer_ones_tail() -> None:
    assert secret_mask("token abcdef", ["abc", "abcdef"]) == f"token {MASK}"


def test_overlapping_values_are_hidden_together_with_nothing_left_over() -> None:
    # Replacing "abc" first would leave "d", the tail of "bcd".
    assert secret_mask("xabcdx", ["abc", "bcd"]) == f"x{MASK}x"


def test_a_one_character_value_is_hidden_too() -> None:
    assert secret_mask("a-b-a", ["a"]) == f"{MASK}-b-{MASK}"


def test_empty_and_blank_values_hide_nothing() -> None:
    assert secret_mask("a b  c", ["", " ", "  \n "]) == "a b  c"


def test_each_line_of_a_multi_line_value_is_hidden_in_a_single_log_line() -> None:
    pem = "-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----"
    assert secret_mask("body: MIIEvQIBADANBg", [pem]) == f"body: {MASK}"
    assert secret_mask("  -----END KEY-----", [pem]) == f"  {MASK}"


def test_a_line_of_a_multi_line_value_is_hidden_without_its_surrounding_spaces() -> None:
    assert secret_mask("got indented", ["first\n   indented   "]) == f"got {MASK}"


def test_characters_that_mean_something_to_regular_expressions_are_matched_literally() -> None:
    assert secret_mask("p=a.b*c(d)", ["a.b*c(d)"]) == f"p={MASK}"
    assert secret_mask("p=axbbc(d)", ["a.b*c(d)"]) == "p=axbbc(d)"


def test_unicode_values_are_hidden() -> None:
    assert secret_mask("mot de passe: été✓", ["été✓"]) == f"mot de passe: {MASK}"


@pytest.fixture
def task_run(db):
    flow = Flow.save_source(
        "id: masked\nnamespace: dev\ntasks:\n  - id: say\n    type: Log\n    message: hi\n"
    )
    return execution_start(flow=flow).task_runs.first()


def stored(task_run) -> list[str]:
    return list(
        LogLine.objects.filter(task_run_id=task_run.pk)
        .order_by("id")
        .values_list("message", flat=True)
    )


def test_the_log_writer_stores_output_and_system_lines_masked(task_run) -> None:
    writer = LogWriter(task_run, secrets=["hunter2"])
    writer.line(LogLine.Stream.STDOUT, "password is hunter2")
    writer.line(LogLine.Stream.STDERR, "hunter2!")
    writer.system("Failed to log in with hunter2", "ERROR")
    writer.flush()
    assert stored(task_run) == [
        f"password is {MASK}",
        f"{MASK}!",
        f"Failed to log in with {MASK}",
    ]


def test_values_added_after_the_writer_exists_are_hidden_from_then_on(task_run) -> None:
    writer = LogWriter(task_run)
    writer.line(LogLine.Stream.STDOUT, "before: rendered-later")
    writer.add_secrets(["rendered-later"])
    writer.line(LogLine.Stream.STDOUT, "after: rendered-later")
    writer.flush()
    assert stored(task_run) == ["before: rendered-later", f"after: {MASK}"]


def test_a_multi_line_secret_printed_over_several_lines_is_hidden_on_each(task_run) -> None:
    writer = LogWriter(task_run, secrets=["line-one\nline-two"])
    for text in ("line-one", "line-two"):
        writer.line(LogLine.Stream.STDOUT, text)
    writer.flush()
    assert stored(task_run) == [MASK, MASK]


def test_a_secret_across_the_truncation_point_is_hidden_before_the_line_is_cut(task_run) -> None:
    secret = "TOPSECRETVALUE"
    writer = LogWriter(task_run, secrets=[secret])
    writer.line(LogLine.Stream.STDOUT, "x" * (MAX_LINE - 5) + secret)
    writer.flush()
    (line,) = stored(task_run)
    assert "TOPSE" not in line  # the mask itself may be cut, the value never shows
    assert line.startswith("x" * (MAX_LINE - 5) + "*****")
