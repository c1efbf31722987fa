"""Finding executions by namespace, flow, state, label and date.

One reading of the filters serves the executions page and Kestra's
``GET /api/v1/executions/search``; only the parameter names differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.http import QueryDict
from django.utils import timezone

from .models import Execution, State


@dataclass(frozen=True)
class SearchNames:
    """The query-string names of each filter."""

    namespace: str
    flow: str
    state: str
    label: str
    start: str
    end: str


PAGE_NAMES = SearchNames("namespace", "flow", "state", "label", "start", "end")
KESTRA_NAMES = SearchNames("namespace", "flowId", "state", "labels", "startDate", "endDate")
DATE_FORMS = "YYYY-MM-DD, YYYY-MM-DDTHH:MM or an ISO-8601 date-time"


@dataclass
class ExecutionSearch:
    namespace: str = ""  # also its children: ``company`` finds ``company.team``
    flow_id: str = ""
    states: list[str] = field(default_factory=list)
    labels: list[tuple[str, str]] = field(default_factory=list)
    start: datetime | None = None  # created at or after
    end: datetime | None = None  # created before (a whole day) or at
    end_is_exclusive: bool = False
    errors: list[str] = field(default_factory=list)  # the parameters that were not understood

    def apply(self, executions: QuerySet[Execution]) -> QuerySet[Execution]:
        if self.namespace:
            executions = executions.filter(
                Q(namespace=self.namespace) | Q(namespace__startswith=self.namespace + ".")
            )
        if self.flow_id:
            executions = executions.filter(flow_id=self.flow_id)
        if self.states:
            executions = executions.filter(state__in=self.states)
        for index, (key, value) in enumerate(self.labels):
            # A key transform, not ``labels__<key>``: a key holding "__" stays one key.
            alias = f"_label_{index}"
            executions = executions.alias(**{alias: KeyTransform(key, "labels")})
            executions = executions.filter(**{alias: value})
        if self.start is not None:
            executions = executions.filter(created_at__gte=self.start)
        if self.end is not None:
            lookup = "created_at__lt" if self.end_is_exclusive else "created_at__lte"
            executions = executions.filter(**{lookup: self.end})
        return executions


def execution_search(params: QueryDict, names: SearchNames = PAGE_NAMES) -> ExecutionSearch:
    """Read the filters from a query string. What cannot be read is left out of the
    search and explained in ``errors``, each message naming its parameter."""
    search = ExecutionSearch(
        namespace=params.get(names.namespace, "").strip(),
        flow_id=params.get(names.flow, "").strip(),
    )
    for state in _values(params, names.state):
        if state.upper() in State.values:
            search.states.append(state.upper())
        else:
            search.errors.append(
                f"{names.state}: '{state}' is not a state (one of {', '.join(State.values)})"
            )
    for label in _values(params, names.label, commas=False):  # a value may hold a comma
        key, colon, value = label.partition(":")
        if colon and key.strip():
            search.labels.append((key.strip(), value.strip()))
        else:
            search.errors.append(f"{names.label}: '{label}' must be written key:value")
    if text := params.get(names.start, "").strip():
        search.start, _ = _moment(text, names.start, search.errors)
    if text := params.get(names.end, "").strip():
        search.end, search.end_is_exclusive = _moment(text, names.end, search.errors, end=True)
    return search


def _values(params: QueryDict, name: str, *, commas: bool = True) -> list[str]:
    """Repeated parameters, and comma-separated ones (``state=FAILED,KILLED``) alike."""
    raws = params.getlist(name)
    parts = [part for raw in raws for part in raw.split(",")] if commas else raws
    return [part.strip() for part in parts if part.strip()]


def _moment(
    text: str, name: str, errors: list[str], *, end: bool = False
) -> tuple[datetime | None, bool]:
    """A date or date-time; a bare date as an end means the whole of that day."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None:
        if end:
            day += timedelta(days=1)
        return timezone.make_aware(datetime.combine(day, time.min)), end
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors.append(f"{name}: '{text}' is not a date ({DATE_FORMS})")
        return None, False
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment, False
