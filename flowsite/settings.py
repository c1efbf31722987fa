"""Flowsite settings, read from the environment.

Out of the box Flowsite runs on one machine with SQLite and django-q2's ORM broker.
DATABASE_URL and REDIS_URL switch it to PostgreSQL and Redis for a team.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import ImproperlyConfigured

from flowsite.connections import connections_budget
from flowsite.env import (
    env_bool,
    env_id_range,
    env_int,
    env_json_object,
    env_list,
    env_storage,
    env_str,
)
from flowsite.installation import installation_id

BASE_DIR = Path(__file__).resolve().parent.parent

# Lets Django's generic classes take type arguments at run time too (ModelForm[Team]).
django_stubs_ext.monkeypatch()

DATA_DIR = Path(env_str("FLOWSITE_DATA_DIR", str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if key := env_str("FLOWSITE_SECRET_KEY"):
        return key
    # A laptop install keeps a generated key across restarts so sessions survive.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()


def _secrets_keys() -> list[str]:
    """Fernet keys for namespace secrets (namespaces/crypto.py); the first encrypts.

    FLOWSITE_SECRETS_KEY holds one key, or several separated by commas to rotate: put the
    new key first, and secrets written under an older one still decrypt. Make a key with
    ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.
    Unset, the key is derived from SECRET_KEY (HKDF-SHA256), so a laptop needs nothing;
    but then changing SECRET_KEY makes every stored secret unreadable: set its own key
    before you ever rotate SECRET_KEY. Every web server and worker needs the same key.
    """
    keys = env_list("FLOWSITE_SECRETS_KEY")
    for position, key in enumerate(keys, start=1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
        except ValueError:  # binascii.Error, or a key that is not ASCII
            valid = False
        if not valid:  # the message never repeats the key: it is a secret
            raise ImproperlyConfigured(
                f"FLOWSITE_SECRETS_KEY: key {position} is not a Fernet key "
                "(32 bytes in url-safe base64, as Fernet.generate_key() makes)"
            )
    if keys:
        return keys
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"flowsite namespace secrets"
    ).derive(SECRET_KEY.encode())
    return [base64.urlsafe_b64encode(derived).decode("ascii")]


FLOWSITE_SECRETS_KEYS = _secrets_keys()
DEBUG = env_bool("FLOWSITE_DEBUG", False)
PRODUCTION = env_bool("FLOWSITE_PRODUCTION", False)
ALLOWED_HOSTS = env_list("FLOWSITE_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("FLOWSITE_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "channels",
    "accounts",
    "flows",
    "executions",
    "triggers",
    "namespaces",
    "environments",
    "dashboard",
    # After executions, whose `qcluster` command stands in for django-q2's own.
    "django_q",
]

MIDDLEWARE = [
    # Outermost: /api/v1/main/... served as /api/v1/..., and every error under /api in JSON.
    "flowsite.api_paths.ApiPathsMiddleware",
    # A database that refuses us for a moment answers 503 with Retry-After (flowsite/busy.py).
    "flowsite.busy.DatabaseBusyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Refuses an oversized body before any view reads it, in JSON under /api.
    "flowsite.body_limits.BodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.reader.ReaderTimeZoneMiddleware",  # the reader's time zone and theme
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last on purpose: WhiteNoise is sync only; innermost, Django runs the whole chain in one thread
    # under ASGI. Higher up, each middleware below it would hop between loop and thread twice.
    "whitenoise.middleware.WhiteNoiseMiddleware",
]

ROOT_URLCONF = "flowsite.urls"
ASGI_APPLICATION = "flowsite.asgi.application"
WSGI_APPLICATION = "flowsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dj_database_url.DBConfig:
    url = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'flowsite.sqlite3'}")
    try:
        # Closed after each request: under ASGI each request runs in a thread of its own,
        # so a kept connection is never reused, only left open (Django advises 0 there).
        # The workers keep theirs open (executions/management/commands/workers.py).
        config = dj_database_url.parse(url, conn_max_age=0)
    except Exception as exc:
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} cannot be read: {exc}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # WAL lets the web server read while workers write; IMMEDIATE avoids
            # the lock-upgrade deadlock between two writers.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # Tests run workers and a web server in other processes: they need a file.
        config["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_HEALTH_CHECKS"] = True
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL={url!r}: Flowsite supports postgres:// and sqlite:/// URLs"
        )
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must start with redis:// or rediss://")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: a wake-up is one PUBLISH (the core layer: a lookup and a script),
            # and a best-effort "look again" is all the pages need (executions/live.py).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env_str("FLOWSITE_REDIS_PREFIX", "flowsite"),
            },
        }
    }
else:
    # Without Redis the worker cannot reach the web process's memory: the websocket
    # consumer then follows the database on a short poll (see executions/consumers.py).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

Q_CLUSTER: dict[str, Any] = {
    "name": env_str("FLOWSITE_QUEUE_NAME", "flowsite"),
    "workers": env_int("FLOWSITE_WORKERS", 4),
    # Flowsite's jobs run with no django-q2 timeout of their own (see executions/jobs.py);
    # this one only bounds foreign jobs. retry must stay above it, as django-q2 requires.
    "timeout": env_int("FLOWSITE_QUEUE_TIMEOUT", 600),
    "retry": env_int("FLOWSITE_QUEUE_RETRY", 660),
    "max_attempts": 3,
    "ack_failures": True,
    "save_limit": -1,
    "catch_up": False,
    # The sentinel's look at its processes, each followed by a write of its status to the
    # cache; django-q2's default of 0.5 s cost more than anything else while idle.
    "guard_cycle": 2.0,
    "label": "Jobs",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL  # a blocking pop: no poll
else:
    Q_CLUSTER["orm"] = "default"
    # Enqueueing wakes this machine's pushers at once (flowsite/broker.py); the poll only
    # bounds the wait for a job enqueued on another host.
    Q_CLUSTER["broker_class"] = "flowsite.broker.WakeableORM"
    Q_CLUSTER["poll"] = 1.0

# Web threads and the connections all may take, checked at start (flowsite/connections.py).
_budget = connections_budget(
    workers=Q_CLUSTER["workers"],
    postgres=DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
    orm_broker=not REDIS_URL,
)
FLOWSITE_WEB_THREADS = _budget.web_threads
FLOWSITE_WEB_QUEUE_SECONDS = _budget.web_queue_seconds
FLOWSITE_DATABASE_CONNECTIONS = _budget.allowed
FLOWSITE_CONNECTIONS_NEEDED = _budget.needed

# The cache holds the failed-login counters (accounts/login.py), which every process that
# checks a password must share: Redis, or else files under DATA_DIR, seen by all of the
# machine's processes and kept across a restart (so restarting lifts no lock).
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("FLOWSITE_REDIS_PREFIX", "flowsite"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": DATA_DIR / "cache",
            # Past MAX_ENTRIES a third of the entries go: set high, so that a flood of
            # made-up usernames cannot push out a real account's counter.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed logins, per username and per client address (accounts/login.py): after
# SLOW_AFTER each attempt waits SLOW_SECONDS; after LOCK_AFTER the username or address is
# refused for LOCK_MINUTES. Failures are forgotten LOCK_MINUTES after the last one.
FLOWSITE_LOGIN_SLOW_AFTER = env_int("FLOWSITE_LOGIN_SLOW_AFTER", 5)
FLOWSITE_LOGIN_LOCK_AFTER = env_int("FLOWSITE_LOGIN_LOCK_AFTER", 10)
FLOWSITE_LOGIN_LOCK_MINUTES = env_int("FLOWSITE_LOGIN_LOCK_MINUTES", 15, least=1)
FLOWSITE_LOGIN_SLOW_SECONDS = 1.0
if not 0 < FLOWSITE_LOGIN_SLOW_AFTER <= FLOWSITE_LOGIN_LOCK_AFTER:
    raise ImproperlyConfigured(
        f"FLOWSITE_LOGIN_SLOW_AFTER={FLOWSITE_LOGIN_SLOW_AFTER} must be at least 1 and at most "
        f"FLOWSITE_LOGIN_LOCK_AFTER={FLOWSITE_LOGIN_LOCK_AFTER}"
    )
# How long a verified HTTP Basic header is remembered (accounts/login.py), so that an API
# client using Basic auth does not pay the password hash on every request; 0 turns it off.
FLOWSITE_BASIC_AUTH_CACHE_SECONDS = env_int("FLOWSITE_BASIC_AUTH_CACHE_SECONDS", 60, least=0)
# Behind a reverse proxy, the header that carries the client's address (X-Forwarded-For).
FLOWSITE_CLIENT_IP_HEADER = env_str("FLOWSITE_CLIENT_IP_HEADER")

# A body read whole (a flow's YAML, JSON inputs, form fields), and a multipart upload
# (its files go to disk as they arrive): bigger ones are refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("FLOWSITE_MAX_BODY_BYTES", 10 * 1024 * 1024, least=1)
FLOWSITE_MAX_UPLOAD_BYTES = env_int("FLOWSITE_MAX_UPLOAD_BYTES", 1024 * 1024 * 1024, least=1)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "flowsite": env_storage(DATA_DIR),
}

# Harmless over plain HTTP, so on everywhere; stated so that they stay on.
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if PRODUCTION:
    # Served over HTTPS, directly or by a proxy that sets X-Forwarded-Proto: cookies
    # never travel in clear and browsers remember to come back over HTTPS.
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("FLOWSITE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("FLOWSITE_HSTS_SECONDS", 31536000, least=0)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("FLOWSITE_LOG_LEVEL", "WARNING")},
    "loggers": {"django-q": {"level": env_str("FLOWSITE_QUEUE_LOG_LEVEL", "WARNING")}},
}

# --- Task execution -------------------------------------------------------------------
# Kestra's global variables, `{{ globals.x }}` in every flow: a JSON object.
FLOWSITE_GLOBALS = env_json_object("FLOWSITE_GLOBALS")

# Extra PEM files (colon-separated) that task containers and processes trust, on top of
# the host's own bundle: companies sit behind TLS-inspecting proxies.
FLOWSITE_EXTRA_CA_CERTS = env_list("FLOWSITE_EXTRA_CA_CERTS", sep=":")
for _pem in FLOWSITE_EXTRA_CA_CERTS:
    if not Path(_pem).is_file():
        raise ImproperlyConfigured(f"FLOWSITE_EXTRA_CA_CERTS names {_pem!r}, which is not a file")

# The Process runner (executions/runners/process.py) shares the worker's host, so it is
# a privilege: only these namespaces (and those inside them) may use it, besides the ones a
# superuser allows on their Access page. The default is the examples' namespace, so that
# they run out of the box; "*" allows every namespace (a single-team install), "" none.
FLOWSITE_PROCESS_NAMESPACES = env_list("FLOWSITE_PROCESS_NAMESPACES", "company.team")
# Where Process tasks get their working directories and Python environment: outside
# DATA_DIR, which the worker closes (mode 0700) to the task users. Its parents must be
# traversable by everyone.
FLOWSITE_PROCESS_DIR = Path(
    env_str("FLOWSITE_PROCESS_DIR", str(DATA_DIR.with_name(DATA_DIR.name + "-process")))
)
# A worker running as root runs each Process task under a user id of its own from this
# range (and the group of the same number), none of them a named account: two tasks never
# share an id, so neither reads the other's files or /proc/<pid>/environ.
FLOWSITE_PROCESS_UID_RANGE = env_id_range("FLOWSITE_PROCESS_UIDS", "61000-61999", least=1000)
# A root worker also closes the database's and Redis's TCP addresses to those ids with
# iptables OUTPUT rules: a task that guessed them still cannot connect, even to a server
# that trusts local connections (executions/runners/firewall.py). Off when "false".
FLOWSITE_PROCESS_FIREWALL = env_bool("FLOWSITE_PROCESS_FIREWALL", True)
# The image a python script task uses when the flow names none, as Kestra does.
FLOWSITE_DEFAULT_PYTHON_IMAGE = env_str("FLOWSITE_DEFAULT_PYTHON_IMAGE", "python:3.11-slim")
FLOWSITE_DEFAULT_SHELL_IMAGE = env_str("FLOWSITE_DEFAULT_SHELL_IMAGE", "ubuntu:latest")
# How deep Subflow calls may nest (a root execution is 0): a chain that comes back round
# (A calls B, B calls A) fails its task there instead of starting executions without end.
FLOWSITE_SUBFLOW_MAX_DEPTH = env_int("FLOWSITE_SUBFLOW_MAX_DEPTH", 10, least=1)
# Retention (flowsite/settings_retention.py); containers' limits, the kill grace, output
# caps and Python environments (flowsite/settings_runners.py).
from flowsite.settings_retention import (  # noqa: E402, F401
    FLOWSITE_EXECUTION_RETENTION_DAYS,
    FLOWSITE_LOG_RETENTION_DAYS,
)
from flowsite.settings_runners import (  # noqa: E402, F401
    FLOWSITE_CONTAINER_CPUS,
    FLOWSITE_CONTAINER_MEMORY,
    FLOWSITE_CONTAINER_NETWORK,
    FLOWSITE_CONTAINER_PIDS,
    FLOWSITE_KILL_GRACE_SECONDS,
    FLOWSITE_PIP_COMMANDS_CACHED,
    FLOWSITE_PYTHON_ENV_CACHE_BYTES,
    FLOWSITE_PYTHON_ENV_TTL_SECONDS,
    FLOWSITE_PYTHON_INDEX_URL,
    FLOWSITE_TASK_LOG_MAX_BYTES,
    FLOWSITE_TASK_LOG_MAX_LINES,
)

# Labels this installation's containers, so that its cleanup leaves other installations'
# alone on a shared Docker engine (flowsite/installation.py).
FLOWSITE_INSTALLATION_ID = installation_id(DATA_DIR, env_str("FLOWSITE_INSTALLATION_ID"))

# make bench counts the database transactions of each process (flowsite/txcount.py).
if env_str("FLOWSITE_COUNT_TRANSACTIONS"):
    from flowsite.txcount import count_transactions_in

    count_transactions_in(env_str("FLOWSITE_COUNT_TRANSACTIONS"))
