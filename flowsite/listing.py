"""One way to page and sort a list page: whitelisted sort keys, Django's Paginator, and
the links of the headers and the pager, each keeping the other query parameters.

A view names its columns once (``Column("Flow", "id")``; no key: not sortable) and its
sort keys (``{"id": ("flow_id",)}``); ``sort=-id`` sorts the other way. A sort or page
the list cannot read falls back to the default and says so in ``notices``, never a 500.
Templates show ``listing/_headers.html`` and ``listing/_pager.html``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import F, OrderBy, QuerySet
from django.http import QueryDict
from django.utils import timezone

PAGE_SIZE = 50


@dataclass(frozen=True)
class Column:
    label: str
    key: str = ""  # a sort key; empty: the column does not sort


@dataclass(frozen=True)
class Header:
    label: str
    url: str = ""  # empty: not sortable
    direction: str = ""  # "ascending", "descending" or "" when the list is not sorted by it


@dataclass
class Listing:
    page: Page[Any]
    sort: str
    headers: list[Header]
    notices: list[str] = field(default_factory=list)
    params: QueryDict = field(default_factory=QueryDict)

    def url(self, **changes: str) -> str:
        """This list's query string with ``changes``; an empty value drops the parameter."""
        kept = self.params.copy()
        for name, value in changes.items():
            if value:
                kept[name] = value
            else:
                kept.pop(name, None)
        return "?" + kept.urlencode()

    @property
    def previous_url(self) -> str:
        return self.url(page=str(self.page.previous_page_number()))

    @property
    def next_url(self) -> str:
        return self.url(page=str(self.page.next_page_number()))

    @property
    def first_url(self) -> str:
        return self.url(page="")

    @property
    def last_url(self) -> str:
        return self.url(page=str(self.page.paginator.num_pages))


def kept_params(params: QueryDict) -> QueryDict:
    """The non-empty parameters, without the page: what the links of a list keep."""
    kept = QueryDict(mutable=True)
    for name, values in params.lists():
        if name != "page" and any(values):
            kept.setlist(name, [value for value in values if value])
    return kept


def order_fields(sort: str, sorts: Mapping[str, Sequence[str]]) -> list[OrderBy]:
    descending = sort.startswith("-")
    return [
        F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
        for name in sorts[sort.lstrip("-")]
    ]


def listing(
    params: QueryDict,
    rows: QuerySet[Any],
    *,
    columns: Sequence[Column],
    sorts: Mapping[str, Sequence[str]],
    default: str,
    per_page: int = PAGE_SIZE,
    tiebreak: str = "pk",
) -> Listing:
    """One page of ``rows`` sorted as ``params`` ask, within ``sorts``."""
    notices: list[str] = []
    sort = params.get("sort", "").strip() or default
    if sort.lstrip("-") not in sorts:
        notices.append(f"Cannot sort by '{sort[:40]}': sorted by {default.lstrip('-')} instead.")
        sort = default
    last = F(tiebreak).desc() if sort.startswith("-") else F(tiebreak).asc()
    rows = rows.order_by(*order_fields(sort, sorts), last)
    paginator = Paginator(rows, per_page)
    asked = params.get("page", "1").strip() or "1"
    number = int(asked) if asked.isdigit() and len(asked) < 10 else 0
    if number < 1:
        notices.append(f"There is no page '{asked[:20]}': showing page 1.")
        number = 1
    elif number > paginator.num_pages:
        notices.append(
            f"There is no page {number}: showing the last, {paginator.num_pages}."
            if paginator.count
            else f"There is no page {number}: the list is empty."
        )
        number = paginator.num_pages
    kept = kept_params(params)
    kept.pop("sort", None)
    if sort != default:
        kept["sort"] = sort
    return Listing(
        page=paginator.page(number),
        sort=sort,
        headers=[_header(column, sort, kept) for column in columns],
        notices=notices,
        params=kept,
    )


def _header(column: Column, sort: str, params: QueryDict) -> Header:
    if not column.key:
        return Header(column.label)
    current = sort.lstrip("-") == column.key
    descending = sort.startswith("-")
    # A click on the sorted column turns it around; on another, sorts by it ascending.
    wanted = f"-{column.key}" if current and not descending else column.key
    query = params.copy()
    query["sort"] = wanted
    direction = ("descending" if descending else "ascending") if current else ""
    return Header(column.label, "?" + query.urlencode(), direction)


PERIODS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}


@dataclass
class Period:
    """``period=hour|day|week`` (the last one), or ``from``/``to`` dates or date-times;
    a bare date as ``to`` means the whole of that day."""

    start: datetime | None = None
    end: datetime | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def given(self) -> bool:
        return self.start is not None or self.end is not None


def period(params: QueryDict) -> Period:
    found = Period()
    if (last := params.get("period", "").strip()) and last in PERIODS:
        found.start = timezone.now() - PERIODS[last]
    elif last:
        found.errors.append(f"Period '{last[:20]}' must be one of {', '.join(PERIODS)}")
    for name in ("from", "to"):
        text = params.get(name, "").strip()
        if not text:
            continue
        moment = _moment(text, end=name == "to")
        if moment is None:
            found.errors.append(f"'{text[:40]}' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)")
        elif name == "from":
            found.start = max(found.start, moment) if found.start else moment
        else:
            found.end = moment
    return found


def _moment(text: str, *, end: bool) -> datetime | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None:
        if end:
            day += timedelta(days=1)
        return timezone.make_aware(datetime.combine(day, time.min))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
