"""LocalFiles (an older Kestra task, used inside a WorkingDirectory): writes files into
the shared directory, and keeps the files its ``outputs`` patterns match."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from flowsite.values import relative_path_check

from ..states import State
from ..values import values_as_text
from .base import BaseTask, Outcome, Runtime


class LocalFilesTask(BaseTask):
    """Puts files in the WorkingDirectory it runs in, and keeps some of its files."""

    type: Literal[
        "io.kestra.plugin.core.storage.LocalFiles", "io.kestra.core.tasks.storages.LocalFiles"
    ]
    inputs: dict[str, str] | str | None = Field(
        None,
        description="Files to write: a map of name to content (a kestra:/// URI stands for "
        "that stored file), or a JSON map",
    )
    outputs: list[str] | None = Field(
        None, description="Glob patterns of files to keep, as outputs.<id>.uris['name']"
    )

    _inputs_as_text = field_validator("inputs", mode="before")(values_as_text)

    @field_validator("outputs")
    @classmethod
    def _patterns_stay_inside(cls, value: Any) -> Any:
        for pattern in value or ():
            relative_path_check(pattern.removeprefix("./"), what="outputs pattern")
        return value

    def run(self, runtime: Runtime) -> Outcome:
        files = runtime.shared_files()
        if self.inputs is not None:
            files.update(runtime.files_materialize(self.inputs))
            runtime.shared_files_keep(files)
        uris = {
            name: runtime.file_store(name, content)
            for name, content in files.items()
            if self.outputs and runtime.glob_match(self.outputs, name)
        }
        return Outcome(State.SUCCESS, outputs={"uris": uris})
