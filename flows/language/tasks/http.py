"""HTTP tasks: ``http.Request`` keeps the answer in its outputs, ``http.Download`` keeps
it as a file of the internal storage. Both run in the worker, through the session its
Runtime gives (the worker's CA bundle and proxy, Flowsite's own services closed)."""

from __future__ import annotations

import json
import posixpath
import re
import tempfile
import time
from datetime import timedelta
from typing import IO, Any, Literal
from urllib.parse import unquote, urlsplit

import requests
from pydantic import Field, field_validator

from ..states import State
from ..values import Duration, values_as_text
from .base import BaseTask, LanguageModel, Outcome, Runtime

STORAGE_PREFIX = "kestra://"
DEFAULT_CONNECT_TIMEOUT = timedelta(seconds=30)
DEFAULT_READ_TIMEOUT = timedelta(seconds=10)  # Kestra's readTimeout default
DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024 * 1024  # Kestra's: a Request's answer in its outputs
CHUNK = 64 * 1024
HttpLogged = Literal["REQUEST_HEADERS", "REQUEST_BODY", "RESPONSE_HEADERS", "RESPONSE_BODY"]
SHOWN = 2000  # characters of a body the logs show
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]


class HttpFailed(Exception):
    """The request could not be made, or was answered with a refused code."""


class HttpAuth(LanguageModel):
    """Kestra 1.x's ``options.auth``."""

    type: Literal["BASIC", "BEARER"] = Field(description="BASIC (username, password) or BEARER")
    username: str | None = None
    password: str | None = None
    token: str | None = None


class HttpTimeouts(LanguageModel):
    """Kestra 1.x's ``options.timeout``."""

    connect_timeout: Duration | None = None
    read_idle_timeout: Duration | None = None


class HttpSsl(LanguageModel):
    insecure_trust_all_certificates: bool | None = Field(
        None, description="Do not check the server's certificate (tests only)"
    )


class HttpOptions(LanguageModel):
    """Kestra's ``options`` of the HTTP tasks, in its older and newer spellings."""

    connect_timeout: Duration | None = Field(None, description="Longest wait to connect")
    read_timeout: Duration | None = Field(None, description="Longest wait for data (10 s)")
    read_idle_timeout: Duration | None = Field(None, description="Same as readTimeout")
    connection_pool_idle_timeout: Duration | None = Field(
        None, description="Accepted; each task run opens its own connections"
    )
    timeout: HttpTimeouts | None = None
    max_content_length: int | None = Field(
        None,
        gt=0,
        le=2 * 1024**3,  # Kestra's ceiling too
        description="Largest answer a Request keeps (bytes, 10 MB by default, 2 GB at most)",
    )
    follow_redirects: bool = Field(True, description="Follow redirects")
    allow_failed: bool | None = Field(None, description="Keep a 4xx/5xx answer, do not fail")
    allowed_response_codes: list[int] | None = Field(
        None, description="Only these codes succeed (others fail)"
    )
    default_charset: str | None = Field(None, description="Charset of an answer naming none")
    basic_auth_user: str | None = None
    basic_auth_password: str | None = None
    auth: HttpAuth | None = None
    proxy_type: Literal["DIRECT", "HTTP"] | None = Field(None, description="DIRECT or HTTP")
    proxy_address: str | None = None
    proxy_port: int | None = Field(None, gt=0, lt=65536)
    proxy_username: str | None = None
    proxy_password: str | None = None
    ssl: HttpSsl | None = None
    log_level: Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] | None = None
    logs: list[HttpLogged] | None = Field(None, description="What of the exchange to log")


class HttpTask(BaseTask):
    """What http.Request and http.Download share: the request."""

    uri: str = Field(description="The http(s) URL to call")
    method: HttpMethod = Field("GET", description="The HTTP method")
    body: str | dict[str, Any] | list[Any] | None = Field(
        None, description="The body, as text (a map or list is sent as JSON)"
    )
    form_data: dict[str, Any] | None = Field(
        None,
        description="Form fields; with contentType multipart/form-data, a kestra:/// URI "
        "(or {name, content}) sends that stored file",
    )
    content_type: str | None = Field(None, description="Content-Type of the request")
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers")
    options: HttpOptions | None = Field(None, description="Timeouts, redirects, auth...")
    ssl_options: HttpSsl | None = Field(None, description="Older form of options.ssl")
    allow_failed: bool = Field(False, description="Keep a 4xx/5xx answer, do not fail")

    _headers_as_text = field_validator("headers", mode="before")(values_as_text)

    def _options(self) -> HttpOptions:
        return self.options or HttpOptions()

    @property
    def failures_allowed(self) -> bool:
        return self.allow_failed or bool(self._options().allow_failed)

    def _refused(self, code: int) -> bool:
        allowed = self._options().allowed_response_codes
        if allowed:
            return code not in allowed
        return code >= 400 and not self.failures_allowed

    def send(self, runtime: Runtime, *, download: bool = False) -> requests.Response:
        """Send the request; the answer, open for streaming."""
        parts = urlsplit(self.uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise HttpFailed(f"uri must be an http:// or https:// URL, not '{self.uri[:200]}'")
        options = self._options()
        headers = dict(self.headers)
        if download and not any(name.lower() == "accept-encoding" for name in headers):
            headers["Accept-Encoding"] = "identity"  # the file as the server keeps it
        data, files = self._payload(runtime)
        if self.content_type and not files:
            headers["Content-Type"] = self.content_type
        auth: Any = None
        if options.auth and options.auth.type == "BEARER":
            headers["Authorization"] = f"Bearer {options.auth.token or ''}"
        elif options.auth:
            auth = (options.auth.username or "", options.auth.password or "")
        elif options.basic_auth_user is not None:
            auth = (options.basic_auth_user, options.basic_auth_password or "")
        ssl = options.ssl or self.ssl_options
        session = runtime.http_session()
        try:
            return session.request(
                self.method,
                self.uri,
                headers=headers,
                data=data,
                files=files,
                auth=auth,
                timeout=self._timeouts(),
                allow_redirects=options.follow_redirects,
                proxies=self._proxies(),
                stream=True,
                verify=False if ssl and ssl.insecure_trust_all_certificates else None,
            )
        except requests.RequestException as exc:
            raise HttpFailed(f"{self.method} {self.uri} failed: {_reason(exc)}") from None

    def _payload(self, runtime: Runtime) -> tuple[Any, Any]:
        if self.form_data is None:
            if self.body is None:
                return None, None
            text = self.body if isinstance(self.body, str) else json.dumps(self.body)
            return text.encode(self._options().default_charset or "utf-8"), None
        multipart = (self.content_type or "").split(";")[0].strip().lower()
        if multipart != "multipart/form-data":
            return {key: _text(value) for key, value in self.form_data.items()}, None
        files: list[tuple[str, tuple[str | None, bytes | str]]] = []
        for key, value in self.form_data.items():
            what = f"formData '{key}'"
            if isinstance(value, str) and value.strip().startswith(STORAGE_PREFIX):
                uri = value.strip()
                name = posixpath.basename(uri)
                files.append((key, (name, runtime.file_read(uri, what=what))))
            elif isinstance(value, dict) and {"name", "content"} <= value.keys():
                uri = str(value["content"]).strip()
                files.append((key, (str(value["name"]), runtime.file_read(uri, what=what))))
            else:
                files.append((key, (None, value if isinstance(value, str) else json.dumps(value))))
        return None, files

    def _timeouts(self) -> tuple[float, float]:
        options = self._options()
        nested = options.timeout or HttpTimeouts()
        connect = options.connect_timeout or nested.connect_timeout or DEFAULT_CONNECT_TIMEOUT
        read = (
            options.read_timeout
            or options.read_idle_timeout
            or nested.read_idle_timeout
            or DEFAULT_READ_TIMEOUT
        )
        if self.timeout is not None:  # never wait past the task's own timeout
            connect, read = min(connect, self.timeout), min(read, self.timeout)
        return connect.total_seconds(), read.total_seconds()

    def _proxies(self) -> dict[str, str] | None:
        options = self._options()
        if options.proxy_type != "HTTP" or not options.proxy_address:
            return None
        credentials = ""
        if options.proxy_username:
            credentials = f"{options.proxy_username}:{options.proxy_password or ''}@"
        url = f"http://{credentials}{options.proxy_address}:{options.proxy_port or 8080}"
        return {"http": url, "https": url}

    def chunks(self, runtime: Runtime, response: requests.Response) -> Any:
        """The answer's bytes as they come; stops at a kill and at the task's timeout."""
        deadline = time.monotonic() + self.timeout.total_seconds() if self.timeout else None
        try:
            for chunk in response.raw.stream(CHUNK, decode_content=True):
                if runtime.wait(0):
                    raise HttpFailed("Killed while reading the answer")
                if deadline is not None and time.monotonic() > deadline:
                    raise HttpFailed(f"Timed out after {self.timeout} reading the answer")
                yield chunk
        except (requests.RequestException, OSError, ValueError) as exc:
            raise HttpFailed(
                f"{self.method} {self.uri}: reading the answer failed: {exc}"
            ) from None

    def log_exchange(
        self, runtime: Runtime, response: requests.Response, body: str | None = None
    ) -> None:
        """Log what ``options.logs`` asks for, at DEBUG (secrets are masked as in any log)."""
        asked = set(self._options().logs or ())
        sent = response.request
        if "REQUEST_HEADERS" in asked:
            runtime.log(f"Request headers: {json.dumps(dict(sent.headers))}", "DEBUG")
        if "REQUEST_BODY" in asked and isinstance(sent.body, str | bytes):
            text = sent.body if isinstance(sent.body, str) else sent.body.decode(errors="replace")
            runtime.log(f"Request body: {text[:SHOWN]}", "DEBUG")
        if "RESPONSE_HEADERS" in asked:
            runtime.log(f"Response headers: {json.dumps(dict(response.headers))}", "DEBUG")
        if "RESPONSE_BODY" in asked and body is not None:
            runtime.log(f"Response body: {body[:SHOWN]}", "DEBUG")

    def failed(self, runtime: Runtime, message: str) -> Outcome:
        runtime.log(message, "ERROR")
        return Outcome(State.FAILED, error=message)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _reason(exc: Exception) -> str:
    # requests nests the cause several levels deep: the innermost says the most.
    while exc.__context__ is not None and isinstance(exc.__context__, Exception):
        exc = exc.__context__
    return str(exc) or type(exc).__name__


def response_headers(response: requests.Response) -> dict[str, list[str]]:
    """Kestra's shape: every header with the list of its values."""
    headers: dict[str, list[str]] = {}
    for name, value in response.raw.headers.items():
        headers.setdefault(name, []).append(value)
    return headers


class RequestTask(HttpTask):
    """Calls an HTTP endpoint; the answer's code, headers and body are its outputs."""

    type: Literal[
        "io.kestra.plugin.core.http.Request",
        "io.kestra.plugin.fs.http.Request",
    ]
    encrypt_body: bool = Field(
        False, description="Keep the body encrypted, in encryptedBody rather than body"
    )

    def run(self, runtime: Runtime) -> Outcome:
        limit = self._options().max_content_length or DEFAULT_MAX_CONTENT_LENGTH
        try:
            with self.send(runtime) as response:
                code = response.status_code
                if self._refused(code):
                    return self.failed(
                        runtime, f"{self.method} {self.uri} failed with response code {code}"
                    )
                received = bytearray()
                for chunk in self.chunks(runtime, response):
                    received += chunk
                    if len(received) > limit:
                        raise HttpFailed(
                            f"The answer of {self.uri} is larger than {limit} bytes "
                            "(options.maxContentLength); the Download task keeps any size"
                        )
                # Not requests' guess (ISO-8859-1 for any text/* naming none): Kestra's
                # default charset, UTF-8 unless the options say otherwise.
                named = re.search(
                    r"charset=\"?([\w.:-]+)", response.headers.get("Content-Type", "")
                )
                charset = named.group(1) if named else self._options().default_charset or "utf-8"
                headers = response_headers(response)
        except HttpFailed as exc:
            return self.failed(runtime, str(exc))
        try:
            body = bytes(received).decode(charset)
        except (UnicodeDecodeError, LookupError):
            return self.failed(
                runtime,
                f"The answer of {self.uri} is not valid {charset} text: the Request task "
                "keeps text only; the Download task keeps any file",
            )
        self.log_exchange(runtime, response, body)
        runtime.log(f"{self.method} {self.uri}: response code {code}")
        outputs: dict[str, Any] = {"uri": self.uri, "code": code, "headers": headers}
        if self.encrypt_body:
            outputs["encryptedBody"] = {
                "type": "io.kestra.datatype:aes_encrypted",
                "value": runtime.encrypt(body),
            }
        else:
            outputs["body"] = body
        if self.form_data is not None:
            outputs["formData"] = self.form_data
        return Outcome(State.SUCCESS, outputs=outputs)


class DownloadTask(HttpTask):
    """Downloads a file into the internal storage: ``outputs.<id>.uri``."""

    type: Literal[
        "io.kestra.plugin.core.http.Download",
        "io.kestra.plugin.fs.http.Download",
    ]
    fail_on_empty_response: bool = Field(True, description="Fail when the answer is empty")

    def run(self, runtime: Runtime) -> Outcome:
        try:
            with self.send(runtime, download=True) as response, _spool() as file:
                code, headers = response.status_code, response_headers(response)
                self.log_exchange(runtime, response)
                if self._refused(code):
                    return self.failed(
                        runtime, f"{self.method} {self.uri} failed with response code {code}"
                    )
                size = 0
                for chunk in self.chunks(runtime, response):
                    file.write(chunk)
                    size += len(chunk)
                expected = response.headers.get("Content-Length")
                encoded = response.headers.get("Content-Encoding", "identity") != "identity"
                if expected and expected.isdigit() and int(expected) != size and not encoded:
                    raise HttpFailed(f"Invalid size, got {size}, expected {expected}")
                if size == 0 and self.fail_on_empty_response and not self.failures_allowed:
                    raise HttpFailed(f"No response from server: {self.uri} answered nothing")
                if size == 0:
                    runtime.log(f"File '{self.uri}' is empty", "WARN")
                file.seek(0)
                uri = runtime.file_store(self._file_name(response), file)
        except HttpFailed as exc:
            return self.failed(runtime, str(exc))
        runtime.log(f"Downloaded {size} bytes from {self.uri}")
        outputs = {"uri": uri, "code": code, "length": size, "headers": headers}
        return Outcome(State.SUCCESS, outputs=outputs)

    def _file_name(self, response: requests.Response) -> str:
        """The name the server gives (Content-Disposition), else the URL's last part."""
        disposition = response.headers.get("Content-Disposition", "")
        found = re.search(r"filename\*\s*=\s*[^']*'[^']*'([^;]+)", disposition) or re.search(
            r'filename\s*=\s*"?([^";]+)"?', disposition
        )
        name = unquote(found.group(1)) if found else unquote(urlsplit(self.uri).path)
        name = posixpath.basename(name.replace("\\", "/")).strip()
        return name if name not in ("", ".", "..") else "download"


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
