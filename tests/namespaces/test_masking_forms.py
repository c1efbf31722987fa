"""The forms a script gives a secret by accident are hidden too: encoded, escaped, re-cased,
reversed, or split over two lines of one stream; in stored and streamed lines, outputs and
errors. The end-to-end tests run a real worker with the Process runner and a real daphne
server, as tests/namespaces/test_secret_masking_end_to_end.py does."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from executions import live
from executions.lifecycle import execution_start
from executions.live import LogWriter
from executions.models import Execution, LogLine, TaskRun
from flows.models import Flow
from namespaces.masking import MASK, MIN_FORM_LENGTH, SecretMasker, forms, secret_mask
from namespaces.models import Secret
from tests.namespaces.test_secret_masking_end_to_end import (
    PROCESS,
    session_cookie,
    streamed_lines,
)

SECRET = 'Pa/ss+w?rd é&"1'  # characters each escaping changes


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


ACCIDENTS = {
    "base64": b64(SECRET.encode()),
    "base64 without padding": b64(SECRET.encode()).rstrip("="),
    "URL-safe base64": base64.urlsafe_b64encode(SECRET.encode()).decode(),
    "hex": SECRET.encode().hex(),
    "upper-case hex": SECRET.encode().hex().upper(),
    "percent-encoding": quote(SECRET, safe=""),
    "percent-encoding keeping slashes": quote(SECRET),
    "form encoding": quote_plus(SECRET),
    "lower-case percent-encoding": re.sub(
        "%..", lambda escape: escape.group().lower(), quote(SECRET)
    ),
    "JSON escaping": json.dumps(SECRET)[1:-1],
    "JSON escaping of non-ASCII": json.dumps(SECRET, ensure_ascii=False)[1:-1],
    "JSON escaping of slashes": json.dumps(SECRET)[1:-1].replace("/", "\\/"),
    "upper case": SECRET.upper(),
    "lower case": SECRET.lower(),
    "reversed": SECRET[::-1],
}


@pytest.mark.parametrize("form", ACCIDENTS.values(), ids=ACCIDENTS.keys())
def test_each_accidental_form_of_a_secret_is_hidden(form: str) -> None:
    assert form != SECRET
    assert secret_mask(f"got <{form}> here", [SECRET]) == f"got <{MASK}> here"


@pytest.mark.parametrize("offset", [0, 1, 2])
def test_a_secret_inside_a_longer_base64_text_is_hidden_at_each_alignment(offset: int) -> None:
    encoded = b64(b"x" * offset + SECRET.encode() + b"tail of a longer payload")
    masked = secret_mask(encoded, [SECRET])
    assert MASK in masked
    # At most the characters shared with the neighbouring bytes are left on each side.
    assert len(masked.split(MASK)[0]) <= 2 + offset
    decoded = masked.replace(MASK, "")
    assert not any(form in decoded for form in ACCIDENTS.values())


def test_the_forms_of_a_secret_shorter_than_the_minimum_are_not_hidden() -> None:
    short = "a" * (MIN_FORM_LENGTH - 1)
    assert forms(short) == {short}
    line = f"{b64(short.encode())} {short.upper()} {short.encode().hex()}"
    assert secret_mask(line, [short]) == line


def test_the_value_itself_is_hidden_however_short() -> None:
    assert secret_mask("key=ab;", ["ab"]) == f"key={MASK};"


def test_a_short_value_is_not_looked_for_across_two_lines() -> None:
    masker = SecretMasker(["ab"])
    assert masker.mask_next("x: a", "b ab") == (None, f"b {MASK}")
    assert not masker.may_continue("x: a")


def test_the_forms_of_each_line_of_a_multi_line_secret_are_hidden() -> None:
    pem = "-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----"
    assert secret_mask(f"x {b64(b'MIIEvQIBADANBg')} y", [pem]) == f"x {MASK} y"


def test_a_masker_with_many_secrets_masks_a_million_clean_lines_in_seconds() -> None:
    secrets = [f"secret-number-{index:04d}-{index * 7919:08x}" for index in range(40)]
    masker = SecretMasker(secrets)
    line = "2026-11-30 08:00:00 INFO processing item 12345 of 99999: status=ok, 0.003 s"
    started = time.process_time()
    for _ in range(100_000):
        masker.mask_next(line, line)
    # A tenth of a million lines; the budget holds ten times over for the million.
    assert time.process_time() - started < 2.0
    assert masker.mask(f"{line} {secrets[17][::-1]}") == f"{line} {MASK}"


# What the property test draws: secrets of printable text, never only whitespace.
secrets = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=MIN_FORM_LENGTH
).filter(lambda text: text.strip() and "\n" not in text and "\r" not in text)
surroundings = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=1000, deadline=None)
@given(secret=secrets, before=surroundings, after=surroundings)
def test_no_listed_form_of_a_random_secret_survives_masking(
    secret: str, before: str, after: str
) -> None:
    masker = SecretMasker([secret])
    for form in forms(secret):
        masked = masker.mask(before + form + after)
        assert form not in masked.replace(MASK, "\0")


@settings(max_examples=1000, deadline=None)
@given(secret=secrets, cut=st.integers(min_value=1), before=surroundings, after=surroundings)
def test_no_part_of_a_random_secret_split_over_two_lines_survives(
    secret: str, cut: int, before: str, after: str
) -> None:
    # Text around the secret of other characters, so a part found after masking is a leak.
    assume("*" not in secret and set(before + after).isdisjoint(secret))
    masker = SecretMasker([secret])
    cut = 1 + cut % (len(secret) - 1)
    first, second = before + secret[:cut], secret[cut:] + after
    split_at, masked_second = masker.mask_next(first, second)
    assert split_at is not None and split_at <= len(before)
    masked_first = masker.mask(first, [(split_at, len(first))])
    assert secret[:cut] not in masked_first and secret[cut:] not in masked_second


@pytest.fixture
def task_run(db: Any) -> TaskRun:
    flow = Flow.save_source(
        "id: masked\nnamespace: dev\ntasks:\n  - id: say\n    type: Log\n    message: hi\n"
    )
    run = execution_start(flow=flow).task_runs.first()
    assert run is not None
    return run


def stored(task_run: TaskRun) -> list[str]:
    lines = LogLine.objects.filter(task_run_id=task_run.pk).order_by("id")
    return list(lines.values_list("message", flat=True))


def test_a_secret_split_over_two_lines_of_a_stream_is_hidden_on_both(task_run) -> None:
    writer = LogWriter(task_run, secrets=["sk-live-0123456789"])
    writer.line(LogLine.Stream.STDOUT, "token: sk-live-01")
    writer.line(LogLine.Stream.STDERR, "sk-live-0123 on another stream is no split")
    writer.line(LogLine.Stream.STDOUT, "23456789 was it")
    writer.flush()
    assert stored(task_run) == [
        f"token: {MASK}",
        "sk-live-0123 on another stream is no split",
        f"{MASK} was it",
    ]


def test_a_base64_secret_wrapped_over_two_lines_is_hidden_on_both(task_run) -> None:
    secret = "correct horse battery staple, forty-two"
    encoded = b64(secret.encode())
    writer = LogWriter(task_run, secrets=[secret])
    writer.line(LogLine.Stream.STDOUT, encoded[:20])
    writer.line(LogLine.Stream.STDOUT, encoded[20:])
    writer.flush()
    assert stored(task_run) == [MASK, MASK]


def test_a_line_that_may_start_a_secret_waits_for_the_next_before_it_is_stored(
    task_run, monkeypatch
) -> None:
    monkeypatch.setattr(live, "FLUSH_INTERVAL", 0)
    monkeypatch.setattr(live, "SPLIT_WAIT", 60)  # however slow the machine
    writer = LogWriter(task_run, secrets=["sk-live-0123456789"])
    writer.line(LogLine.Stream.STDOUT, "plain line")
    writer.line(LogLine.Stream.STDOUT, "token: sk-live")
    writer.flush_if_due()
    assert stored(task_run) == ["plain line"]  # the page never sees the first part
    writer.line(LogLine.Stream.STDOUT, "-0123456789, done.")
    writer.flush_if_due()
    assert stored(task_run) == ["plain line", f"token: {MASK}", f"{MASK}, done."]


def test_a_line_waits_for_its_continuation_only_a_bounded_time(task_run, monkeypatch) -> None:
    monkeypatch.setattr(live, "FLUSH_INTERVAL", 0)
    monkeypatch.setattr(live, "SPLIT_WAIT", 0.5)
    writer = LogWriter(task_run, secrets=["sk-live-0123456789"])
    writer.line(LogLine.Stream.STDOUT, "token: sk-live")
    writer.line(LogLine.Stream.STDERR, "and a line of another stream, after it")
    writer.flush_if_due()
    assert stored(task_run) == []  # order is kept: the later line waits too
    time.sleep(0.6)
    writer.flush_if_due()
    assert stored(task_run) == ["token: sk-live", "and a line of another stream, after it"]


def test_outputs_and_errors_hide_every_form(task_run) -> None:
    writer = LogWriter(task_run, secrets=[SECRET])
    outputs = {"encoded": ACCIDENTS["base64"], "list": [ACCIDENTS["hex"], 3]}
    assert writer.mask(outputs) == {"encoded": MASK, "list": [MASK, 3]}
    assert writer.mask(f"failed: {ACCIDENTS['JSON escaping']}") == f"failed: {MASK}"


E2E_SECRET = "sk-live-forms/9f3+b7?e1"
PRINT_FORMS = r"""
import base64, json, os, sys, time, urllib.parse
t = os.environ["TOKEN"]
raw = t.encode()
print("b64", base64.b64encode(raw).decode())
print("b64url", base64.urlsafe_b64encode(raw).decode().rstrip("="))
for offset in range(3):
    print("inside", base64.b64encode(b"x" * offset + raw + b"more bytes").decode())
print("hex", raw.hex(), raw.hex().upper())
print("url", urllib.parse.quote(t, safe=""), urllib.parse.quote_plus(t))
print("json", json.dumps({"token": t}))
print("upper", t.upper(), "reversed", t[::-1])
print("split start " + t[:9])
time.sleep(0.3)  # a read of its own: the worker flushes every 50 ms
print(t[9:] + " split end")
print("err", raw.hex(), file=sys.stderr)
print(json.dumps({"outputs": {"b64": base64.b64encode(raw).decode(), "rev": t[::-1]}})
      .join(["::", "::"]))
"""


def run_followed(server_url: str, alice: Any, tasks: str) -> tuple[Execution, list[str]]:
    Secret.store(namespace="dev", key="FORMS_KEY", value=E2E_SECRET, user=alice)
    source = f"id: forms\nnamespace: dev.e2e\n\ntasks:\n{tasks}"
    execution = execution_start(flow=Flow.save_source(source))
    streamed = streamed_lines(server_url, execution.pk, session_cookie(alice))
    execution.refresh_from_db()
    return execution, streamed


def leaks(texts: list[str]) -> list[str]:
    return [text for text in texts for form in forms(E2E_SECRET) if form in text]


@pytest.mark.django_db(transaction=True)
def test_a_process_task_printing_each_form_of_a_secret_shows_only_masks(
    server_url, worker, alice
) -> None:
    script = "\n".join(f"        {line}" for line in PRINT_FORMS.strip().splitlines())
    execution, streamed = run_followed(
        server_url,
        alice,
        f"""  - id: leak
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: {PROCESS}
    env:
      TOKEN: "{{{{ secret('FORMS_KEY') }}}}"
    commands:
      - |
        python3 - <<'EOF'
{script}
        EOF
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "bad key {{{{ secret('FORMS_KEY') | base64encode }}}}"
""",
    )
    stored_lines = list(
        LogLine.objects.filter(execution=execution).order_by("id").values_list("message", flat=True)
    )
    runs = {run.task_id: run for run in execution.task_runs.all()}
    assert runs["leak"].state in {"SUCCESS", "WARNING"}, stored_lines
    assert f"b64 {MASK}" in stored_lines and f"hex {MASK} {MASK}" in stored_lines
    assert f"upper {MASK} reversed {MASK}" in stored_lines
    assert f"split start {MASK}" in stored_lines and f"{MASK} split end" in stored_lines
    assert streamed == stored_lines
    assert not leaks(stored_lines + streamed)
    assert runs["leak"].outputs["vars"] == {"b64": MASK, "rev": MASK}
    assert runs["fail"].error == f"bad key {MASK}"
    assert not leaks([execution.error, *(run.error for run in runs.values())])
