"""A flow's history: its revisions, any one's source, a diff of two, and restoring one."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import flow_for_user, revision_for_user
from accounts.audit import audit_flow_saved
from accounts.models import Role
from accounts.permissions import abilities
from flowsite.listing import Column, listing

from .language import FlowInvalid
from .models import Flow

# Past this many changed lines, the diff takes difflib's fast heuristic over exactness.
MAX_EXACT_DIFF_LINES = 4_000


@dataclass(frozen=True)
class DiffRow:
    """One line of a side-by-side diff; a side without a line has number None."""

    kind: str  # "equal", "changed", "added" or "removed"
    old_number: int | None
    old_text: str
    new_number: int | None
    new_text: str


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """SequenceMatcher's opcodes, with the unchanged head and tail matched first: a flow of
    20,000 tasks repeats its ``type:`` line 20,000 times, which makes the matcher (without
    autojunk) quadratic, and an edit usually touches a few lines in the middle."""
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    middle_old, middle_new = old[head : len(old) - tail], new[head : len(new) - tail]
    # A large rewrite: the matcher's heuristic for popular lines keeps it fast.
    autojunk = len(middle_old) + len(middle_new) > MAX_EXACT_DIFF_LINES
    matcher = difflib.SequenceMatcher(None, middle_old, middle_new, autojunk=autojunk)
    opcodes = [("equal", 0, head, 0, head)] if head else []
    opcodes += [
        (tag, i1 + head, i2 + head, j1 + head, j2 + head)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if i1 != i2 or j1 != j2
    ]
    if tail:
        opcodes.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return opcodes


def _side_by_side(old_source: str, new_source: str) -> list[DiffRow]:
    old, new = old_source.splitlines(), new_source.splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        # A replaced block pairs its lines up; what one side has more of was added or removed.
        pairs = zip_longest(range(i1, i2), range(j1, j2))
        for i, j in pairs:
            if tag == "equal":
                kind = "equal"
            elif i is not None and j is not None:
                kind = "changed"
            else:
                kind = "removed" if j is None else "added"
            rows.append(
                DiffRow(
                    kind=kind,
                    old_number=None if i is None else i + 1,
                    old_text="" if i is None else old[i],
                    new_number=None if j is None else j + 1,
                    new_text="" if j is None else new[j],
                )
            )
    return rows


REVISION_COLUMNS = [
    Column("Revision", "revision"),
    Column("Author", "author"),
    Column("Saved", "saved"),
    Column(""),
]
REVISION_SORTS = {
    "revision": ("revision",),
    "author": ("author__username", "revision"),
    "saved": ("created_at",),
}


@login_required
@require_GET
def flow_revisions(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    flow = flow_for_user(request.user, namespace, flow_id)
    revisions = flow.revisions.select_related("author")
    page = listing(
        request.GET, revisions, columns=REVISION_COLUMNS, sorts=REVISION_SORTS, default="-revision"
    )
    context = {
        "flow": flow,
        "listing": page,
        "revisions": page.page,
        "can": abilities(request.user, namespace),
    }
    return render(request, "flows/revisions.html", context)


@login_required
@require_GET
def flow_revision(
    request: HttpRequest, namespace: str, flow_id: str, revision: int
) -> HttpResponse:
    found = revision_for_user(request.user, namespace, flow_id, revision)
    context = {"flow": found.flow, "revision": found, "can": abilities(request.user, namespace)}
    return render(request, "flows/revision.html", context)


@login_required
@require_GET
def flow_revision_diff(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    flow = flow_for_user(request.user, namespace, flow_id)
    context: dict[str, Any] = {"flow": flow, "error": ""}
    try:
        numbers = [int(request.GET[name]) for name in ("from", "to")]
    except (KeyError, ValueError):
        context["error"] = "Name two revisions to compare by their numbers: ?from=1&to=2."
        return render(request, "flows/revision_diff.html", context, status=400)
    old, new = (revision_for_user(request.user, namespace, flow_id, n) for n in numbers)
    context.update(old=old, new=new, rows=_side_by_side(old.source, new.source))
    return render(request, "flows/revision_diff.html", context)


@login_required
@require_POST
def flow_revision_restore(
    request: HttpRequest, namespace: str, flow_id: str, revision: int
) -> HttpResponse:
    found = revision_for_user(request.user, namespace, flow_id, revision, need=Role.EDITOR)
    try:
        # As any save: validated against today's language, numbered, a no-op when unchanged.
        flow = Flow.save_source(found.source, author=request.user, expect=(namespace, flow_id))
    except FlowInvalid as exc:
        context = {
            "flow": found.flow,
            "source": found.source,
            "errors": exc.errors,
            "saved": False,
            "can": abilities(request.user, namespace),
        }
        return render(request, "flows/flow.html", context, status=422)
    audit_flow_saved(actor=request.user, flow=flow)
    return redirect(flow.get_absolute_url())
