"""A namespace's KV store, as Kestra's: typed values, an optional TTL and description.

Keys follow Kestra's rule (a letter or digit, then letters, digits, ``.``, ``_``, ``-``).
A value keeps its type (STRING, NUMBER, BOOLEAN, DATETIME, DATE, DURATION, JSON) and is
given back as JSON: instants, dates and durations in their ISO-8601 spelling. An entry
whose TTL ran out reads as missing everywhere (pages, API, tasks, ``kv()``) and is
overwritten by the next set. ``kv('key')`` looks in the flow's namespace, then its
parents, the nearest winning; the tasks and the API name one namespace exactly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.timezone import now

from accounts.audit import audit_record
from flowsite.bounded import load_json, unstorable
from flowsite.http import RequestUser
from flowsite.values import format_instant, parse_duration

from .lookup import namespace_chain
from .models import KeyValue, KVType, _user

KV_KEY_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9._-]*"
KV_KEY_MAX_LENGTH = 255
KV_VALUE_MAX_BYTES = 1024 * 1024
KV_DESCRIPTION_MAX_LENGTH = 500
# Kestra reads a text shaped like an ISO-8601 duration back as a DURATION.
_DURATION_TEXT = re.compile(r"^P(?=[^T]|T.)(?:\d*D)?(?:T(?=.)(?:\d*H)?(?:\d*M)?(?:\d*S)?)?$")
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class KVError(ValueError):
    """A KV operation that cannot be done; the message says what and why."""


class KVMissing(KVError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Typed:
    type: str
    value: Any


def kv_key_check(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise KVError("A KV key is required")
    if len(key) > KV_KEY_MAX_LENGTH:
        raise KVError(f"The KV key {key[:20]!r}… is longer than {KV_KEY_MAX_LENGTH} characters")
    if not re.fullmatch(KV_KEY_PATTERN, key):
        raise KVError(
            f"The KV key {key!r} must start with a letter or digit and hold only letters, "
            "digits, '.', '_' and '-'"
        )
    return key


def _instant(text: str, what: str) -> str:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise KVError(
            f"{what} {text!r} is not an ISO-8601 date-time such as 2026-11-30T10:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_instant(moment)


def kv_typed(value: Any, kv_type: str | None = None) -> Typed:
    """``value`` as the KV store keeps it for ``kv_type`` (None: its own type), or
    KVError naming the type it does not fit. Text is parsed the way Kestra's kv.Set does."""
    if kv_type is not None and kv_type not in KVType.values:
        raise KVError(f"kvType {kv_type!r} is not one of {', '.join(KVType.values)}")
    text = value if isinstance(value, str) else None
    what = f"The value for kvType {kv_type}"
    if kv_type in (None, KVType.STRING):
        if kv_type is None and not isinstance(value, str):
            return kv_inferred(value)
        return Typed(KVType.STRING, value if text is not None else json.dumps(value))
    if kv_type == KVType.NUMBER:
        number = _json(text, what) if text is not None else value
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise KVError(f"{what} must be a number, not {value!r}")
        return Typed(KVType.NUMBER, number)
    if kv_type == KVType.BOOLEAN:
        if isinstance(value, bool):
            return Typed(KVType.BOOLEAN, value)
        if text is not None and text.strip().lower() in ("true", "false"):
            return Typed(KVType.BOOLEAN, text.strip().lower() == "true")
        raise KVError(f"{what} must be true or false, not {value!r}")
    if kv_type == KVType.DATETIME:
        return Typed(KVType.DATETIME, _instant(str(value), what))
    if kv_type == KVType.DATE:
        try:
            return Typed(KVType.DATE, date.fromisoformat(str(value).strip()[:10]).isoformat())
        except ValueError:
            raise KVError(f"{what} must be a date such as 2026-11-30, not {value!r}") from None
    if kv_type == KVType.DURATION:
        try:
            parse_duration(str(value))
        except ValueError as exc:
            raise KVError(f"{what} must be an ISO-8601 duration such as PT5M: {exc}") from None
        return Typed(KVType.DURATION, str(value).strip())
    return Typed(KVType.JSON, _json(text, what) if text is not None else value)


def _json(text: str, what: str) -> Any:
    try:
        return load_json(text)
    except ValueError as exc:
        raise KVError(f"{what} is not valid JSON: {exc}") from None


def kv_inferred(value: Any) -> Typed:
    """The type Kestra gives a value it was handed without one."""
    if isinstance(value, bool):
        return Typed(KVType.BOOLEAN, value)
    if isinstance(value, int | float):
        return Typed(KVType.NUMBER, value)
    if isinstance(value, dict | list):
        return Typed(KVType.JSON, value)
    if isinstance(value, str) and _DURATION_TEXT.match(value):
        return Typed(KVType.DURATION, value)
    return Typed(KVType.STRING, value)


def kv_from_text(text: str) -> Typed:
    """What a body of Kestra's PUT .../kv/{key} means: JSON (``"text"``, ``42``,
    ``{"a": 1}``) typed by its shape; otherwise an unquoted instant, date or duration;
    otherwise the text itself."""
    try:
        return kv_inferred(load_json(text))
    except ValueError:
        pass
    bare = text.strip()
    if _DATE_TEXT.match(bare):
        return kv_typed(bare, KVType.DATE)
    if "T" in bare and bare[:4].isdigit():
        try:
            return kv_typed(bare, KVType.DATETIME)
        except KVError:
            pass
    return kv_inferred(text)


def kv_set(
    *,
    namespace: str,
    key: str,
    typed: Typed,
    ttl: timedelta | None = None,
    description: str | None = None,
    overwrite: bool = True,
    user: RequestUser | None = None,
) -> KeyValue:
    """Create or replace ``key`` (KVError when it exists and ``overwrite`` is false).
    A change a person made (``user``) is audited, without its value."""
    kv_key_check(key)
    if odd := unstorable(typed.value):
        raise KVError(f"The value of KV key {key} holds {odd}, which cannot be stored")
    if len(json.dumps(typed.value, default=str)) > KV_VALUE_MAX_BYTES:
        raise KVError(f"The value of KV key {key} is larger than {KV_VALUE_MAX_BYTES} bytes")
    if ttl is not None and ttl <= timedelta(0):
        raise KVError(f"The TTL of KV key {key} must be positive")
    if description is not None and len(description) > KV_DESCRIPTION_MAX_LENGTH:
        raise KVError(f"The description of KV key {key} is longer than 500 characters")
    moment = now()
    with transaction.atomic():
        entry = KeyValue.objects.select_for_update().filter(namespace=namespace, key=key).first()
        if entry is not None and entry.expired:
            entry.delete()
            entry = None
        if entry is not None and not overwrite:
            raise KVError(
                f"Cannot set KV key {key} of namespace {namespace}: it exists and overwrite is false"
            )
        fields = {
            "type": typed.type,
            "value": typed.value,
            "expires_at": moment + ttl if ttl else None,
            "updated_at": moment,
            "updated_by": _user(user),
        }
        if description is not None:
            fields["description"] = description
        if user is not None:
            audit_record(
                actor=user,
                action="created" if entry is None else "changed",
                namespace=namespace,
                object_type="kv",
                object_id=key,
                summary=f"type {typed.type}" + (f", expires after {ttl}" if ttl else ""),
            )
        if entry is None:
            return KeyValue.objects.create(namespace=namespace, key=key, **fields)
        KeyValue.objects.filter(pk=entry.pk).update(revision=F("revision") + 1, **fields)
        entry.refresh_from_db()
        return entry


def kv_entry(namespace: str, key: str) -> KeyValue | None:
    kv_key_check(key)
    return KeyValue.objects.live().filter(namespace=namespace, key=key).first()


def kv_value(namespace: str, key: str, *, inherit: bool = False) -> KeyValue:
    """The live entry ``key``, in ``namespace`` (``inherit``: or its nearest parent's);
    KVMissing says where it looked."""
    kv_key_check(key)
    chain = namespace_chain(namespace) if inherit else [namespace]
    rows = {
        row.namespace: row for row in KeyValue.objects.live().filter(namespace__in=chain, key=key)
    }
    for name in reversed(chain):
        if name in rows:
            return rows[name]
    where = f"namespace {namespace}" + (" or its parents" if inherit and "." in namespace else "")
    raise KVMissing(f"No KV key {key} in {where}")


def kv_keys(namespace: str, prefix: str | None = None) -> list[KeyValue]:
    rows = KeyValue.objects.live().filter(namespace=namespace)
    if prefix:
        rows = rows.filter(key__startswith=prefix)
    return list(rows.order_by("key"))


def kv_inherited(namespace: str) -> list[KeyValue]:
    """What ``namespace`` sees: its own entries and its parents', the nearest per key."""
    chain = namespace_chain(namespace)
    seen: dict[str, KeyValue] = {}
    rows = KeyValue.objects.live().filter(namespace__in=chain)
    for row in sorted(rows, key=lambda r: -chain.index(r.namespace)):
        seen.setdefault(row.key, row)
    return sorted(seen.values(), key=lambda r: r.key)


def kv_delete(namespace: str, key: str, *, user: RequestUser | None = None) -> bool:
    """Whether a live entry was there (an expired one is removed all the same)."""
    kv_key_check(key)
    entry = KeyValue.objects.filter(namespace=namespace, key=key).first()
    if entry is None:
        return False
    entry.delete()
    if user is not None:
        audit_record(
            actor=user, action="deleted", namespace=namespace, object_type="kv", object_id=key
        )
    return not entry.expired


def kv_entry_json(entry: KeyValue) -> dict[str, Any]:
    """Kestra's KVEntry."""
    return {
        "namespace": entry.namespace,
        "key": entry.key,
        "type": entry.type,
        "description": entry.description or None,
        "revision": entry.revision,
        "creationDate": format_instant(entry.created_at),
        "updateDate": format_instant(entry.updated_at),
        "expirationDate": format_instant(entry.expires_at) if entry.expires_at else None,
    }


def kv_text(entry: KeyValue) -> str:
    """The value as its form shows it: text as itself, anything else as JSON."""
    if isinstance(entry.value, str) and entry.type != KVType.JSON:
        return entry.value
    return json.dumps(entry.value, ensure_ascii=False)
