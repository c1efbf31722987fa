"""A namespace's variables and secrets.

Both are keyed like Kestra's: letters, digits and underscores, not starting with a digit
(secrets are by convention UPPER_CASE). A namespace sees its own and its parents'
(namespaces/lookup.py); each row belongs to exactly one namespace.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.timezone import now

from flowsite.bounded import load_json
from flowsite.http import RequestUser

from .crypto import InvalidToken, decrypt, encrypt

KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
KEY_MAX_LENGTH = 100


class SecretUnreadable(Exception):
    """A stored secret that no configured key decrypts."""


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot name a variable or a secret, or None when it can."""
    if not key:
        return "A key is required"
    if len(key) > KEY_MAX_LENGTH:
        return f"The key {key[:20]!r}… is longer than {KEY_MAX_LENGTH} characters"
    if not re.fullmatch(KEY_PATTERN, key):  # fullmatch: "$" would let a final newline in
        return (
            f"The key {key!r} may only hold letters, digits and underscores, "
            "and may not start with a digit"
        )
    return None


def validate_key(key: str) -> None:
    if problem := key_problem(key):
        raise ValidationError(problem)


class NamespaceEntry(models.Model):
    namespace = models.CharField(max_length=150, db_index=True)
    key = models.CharField(max_length=KEY_MAX_LENGTH, validators=[validate_key])
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True
        ordering = ["namespace", "key"]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.key}"


class NamespaceVariable(NamespaceEntry):
    """A value that flows of the namespace (and of the namespaces inside it) read."""

    value = models.JSONField(help_text="Any JSON value: text, a number, a list, an object")

    class Meta(NamespaceEntry.Meta):
        constraints = [
            models.UniqueConstraint(fields=["namespace", "key"], name="unique_variable_key")
        ]

    @classmethod
    def store(
        cls, *, namespace: str, key: str, value: Any, user: RequestUser | None = None
    ) -> NamespaceVariable:
        """Create or replace the variable ``key`` of ``namespace``."""
        validate_key(key)
        variable, _ = cls.objects.update_or_create(
            namespace=namespace, key=key, defaults={"value": value, "updated_by": _user(user)}
        )
        return variable


class Secret(NamespaceEntry):
    """A value flows reach through ``secret('KEY')``, stored encrypted, never shown."""

    ciphertext = models.TextField(help_text="Fernet token; see namespaces/crypto.py")

    class Meta(NamespaceEntry.Meta):
        constraints = [
            models.UniqueConstraint(fields=["namespace", "key"], name="unique_secret_key")
        ]

    @classmethod
    def store(
        cls, *, namespace: str, key: str, value: str, user: RequestUser | None = None
    ) -> Secret:
        """Create or replace the secret ``key`` of ``namespace``, encrypting ``value``."""
        validate_key(key)
        secret, _ = cls.objects.update_or_create(
            namespace=namespace,
            key=key,
            defaults={"ciphertext": encrypt(value), "updated_by": _user(user)},
        )
        return secret

    def reveal(self) -> str:
        """The plaintext, for the engine only: no page or endpoint ever returns it."""
        try:
            return decrypt(self.ciphertext)
        except InvalidToken:
            raise SecretUnreadable(
                f"Secret {self.key} of namespace {self.namespace} cannot be decrypted: it was "
                "encrypted under another key (FLOWSITE_SECRETS_KEY, or SECRET_KEY when that "
                "is unset, changed since). Set the secret again."
            ) from None


def _user(user: RequestUser | None) -> User | None:
    return user if isinstance(user, User) else None


def variable_text(value: object) -> str:
    """A variable's value as typed in its form: text as itself, anything else as JSON.
    Text that would read back as JSON ("42", "true") is shown quoted, so that saving
    the form unchanged keeps it text."""
    if isinstance(value, str) and variable_value(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)


def variable_value(text: str) -> Any:
    """What the form's text means: JSON when it is JSON (42, true, [1, 2], {"a": 1},
    "quoted"), otherwise the text itself."""
    try:
        return load_json(text)
    except ValueError:  # not JSON, or too deep or big to read: kept as text
        return text


class ProcessRunnerGrant(models.Model):
    """A superuser allowed the Process runner on ``namespace`` and the namespaces inside
    it (namespaces/process_runner.py). Without a row, only FLOWSITE_PROCESS_NAMESPACES
    may use it."""

    namespace = models.CharField(max_length=150, unique=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["namespace"]

    def __str__(self) -> str:
        return f"Process runner allowed on {self.namespace}"


class KVType(models.TextChoices):
    """Kestra's KV value types; the value is kept as JSON in the type's spelling."""

    STRING = "STRING"
    NUMBER = "NUMBER"
    BOOLEAN = "BOOLEAN"
    DATETIME = "DATETIME"  # "2026-11-30T10:00:00Z"
    DATE = "DATE"  # "2026-11-30"
    DURATION = "DURATION"  # "PT5M"
    JSON = "JSON"


class KeyValueQuerySet(models.QuerySet["KeyValue"]):
    def live(self) -> KeyValueQuerySet:
        """Entries whose TTL has not run out: an expired entry reads as missing."""
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now()))


class KeyValue(models.Model):
    """One entry of a namespace's KV store (namespaces/kv.py says how values are typed)."""

    namespace = models.CharField(max_length=150, db_index=True)
    key = models.CharField(max_length=255)
    type = models.CharField(max_length=10, choices=KVType.choices, default=KVType.STRING)
    value = models.JSONField(null=True)
    description = models.CharField(max_length=500, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = KeyValueQuerySet.as_manager()

    class Meta:
        ordering = ["namespace", "key"]
        constraints = [models.UniqueConstraint(fields=["namespace", "key"], name="unique_kv_key")]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.key}"

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= now()


class NamespaceFile(models.Model):
    """A file or folder of a namespace's files (namespaces/files.py), its content in the
    database. ``path`` is relative, without a leading slash: ``scripts/clean.py``."""

    namespace = models.CharField(max_length=150, db_index=True)
    path = models.CharField(max_length=255)
    is_directory = models.BooleanField(default=False)
    content = models.BinaryField(default=b"")
    size = models.PositiveIntegerField(default=0)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["namespace", "path"]
        constraints = [
            models.UniqueConstraint(fields=["namespace", "path"], name="unique_namespace_file")
        ]

    def __str__(self) -> str:
        return f"{self.namespace}:/{self.path}"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parent(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""

    @property
    def depth(self) -> int:
        return self.path.count("/")
