"""The FILE input: a file uploaded with the run."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field

from .base import BaseInput, located_error, quoted


class FileInput(BaseInput):
    """A file uploaded with the run, stored with the execution; its value is the
    file's kestra:/// URI."""

    type: Literal["FILE"]
    allowed_file_extensions: list[str] | None = Field(
        None, description="Accepted extensions, e.g. ['.csv', '.json']"
    )
    # Kestra ignores it today; older flows still carry it.
    extension: str | None = Field(None, description="Older: extension of the stored file")

    def _check_definition(self) -> None:
        if self.defaults is not None and not isinstance(self.defaults, str):
            raise located_error("The default of a FILE input is a file's URI", "defaults")

    def coerce(self, value: object) -> str:
        # Uploads are stored before this is called; what arrives here is a URI.
        if not isinstance(value, str) or not urlsplit(value).scheme:
            raise ValueError(f"must be an uploaded file or a file URI, got {quoted(value)}")
        return value

    def accepts_file_name(self, name: str) -> bool:
        allowed = self.allowed_file_extensions
        return not allowed or any(name.lower().endswith(ext.lower()) for ext in allowed)
