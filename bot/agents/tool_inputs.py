"""The built-in agent's six tools as pydantic models: their schemas and their input checks.

The names and parameters are fixed: other programs (a scripted model in the tests) rely on
them. The model's input is untrusted, so it is validated here before any tool runs: a
missing or mistyped argument, an unknown one or an unknown tool becomes a `ToolFailure`
whose message the model reads and can correct, never a crash of the run. Validation is
strict (`"10"` is not an integer, nor is `true`), except that a whole float (`10.0`) counts
as the integer it is. The schemas the Messages API gets are written from the same models, so
the two cannot drift apart.
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Annotated, ClassVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.agents.file_tools import ToolFailure

if TYPE_CHECKING:  # types only: the SDK loads where a model is called, not in every process
    from anthropic.types import ToolParam

RepoPath = Annotated[str, Field(description="File path relative to the repository root")]

_JSON_TYPES: dict[type, str] = {str: "string", int: "integer"}
_A_TYPE: dict[type, str] = {str: "a string", int: "an integer"}


class ToolInput(BaseModel):
    """One tool's parameters; `description` is what the model is told the tool does."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    description: ClassVar[str]

    @field_validator("*", mode="before")
    @classmethod
    def _whole_numbers(cls, value: object) -> object:
        return int(value) if isinstance(value, float) and value.is_integer() else value


class ListFiles(ToolInput):
    description = (
        "List files in the repository (recursively; files ignored by .gitignore are left out)."
    )
    path: str | None = Field(
        None, description="Directory or file relative to the repository root (default: .)"
    )
    pattern: str | None = Field(
        None, description="Glob on the relative path or file name, e.g. *.py"
    )


class ReadFile(ToolInput):
    description = (
        "Read a text file, with line numbers. Long files come in pages of up to 2000 lines."
    )
    path: RepoPath
    offset: int | None = Field(None, description="First line to read, 1-based (default 1)")
    limit: int | None = Field(
        None, description="Number of lines to read (default and maximum 2000)"
    )


class WriteFile(ToolInput):
    description = (
        "Create a file or replace its whole content. Prefer edit_file for changes to a file."
    )
    path: RepoPath
    content: str = Field(description="The complete new content of the file")


class EditFile(ToolInput):
    description = (
        "Replace one exact occurrence of `old` with `new` in a file. `old` must match the "
        "file exactly (whitespace included) and occur exactly once."
    )
    path: RepoPath
    old: str = Field(description="The exact text to replace; unique in the file")
    new: str = Field(description="The replacement text")


class Search(ToolInput):
    description = "Search file contents with a Python regular expression; answers path:line: text."
    pattern: str = Field(description="Regular expression")
    path: str | None = Field(
        None, description="Directory or file to search in (default: the whole repo)"
    )


class Run(ToolInput):
    description = (
        "Run a shell command (bash -c) in the repository root and get its exit code and "
        "output (long output keeps its head and tail). No secrets are in its environment."
    )
    command: str = Field(description="The command line, e.g. `pytest -q`")
    timeout: int | None = Field(
        None, description="Seconds before the command is killed (default 120)"
    )


FileInput = ListFiles | ReadFile | WriteFile | EditFile | Search
Input = FileInput | Run
TOOLS: dict[str, type[Input]] = {
    "list_files": ListFiles,
    "read_file": ReadFile,
    "write_file": WriteFile,
    "edit_file": EditFile,
    "search": Search,
    "run": Run,
}


def _kind(annotation: object) -> type:
    """`str` for `str` and `str | None`: the JSON type a parameter takes."""
    if get_origin(annotation) in (Union, types.UnionType):
        [annotation] = [a for a in get_args(annotation) if a is not type(None)]
    assert isinstance(annotation, type) and annotation in _JSON_TYPES, annotation
    return annotation


def tool_params() -> list[ToolParam]:
    """The tools as the Messages API takes them; the last one carries the cache mark."""
    tools: list[ToolParam] = []
    for name, model in TOOLS.items():
        fields = model.model_fields
        properties = {
            arg: {"type": _JSON_TYPES[_kind(info.annotation)], "description": info.description}
            for arg, info in fields.items()
        }
        required = [arg for arg, info in fields.items() if info.is_required()]
        tools.append(
            {
                "name": name,
                "description": model.description,
                "input_schema": {"type": "object", "properties": properties, "required": required},
            }
        )
    tools[-1]["cache_control"] = {"type": "ephemeral"}
    return tools


def check_input(name: str, raw: dict[str, object], problem: str | None) -> Input:
    """A call's arguments, validated, or `ToolFailure` saying (to the model) what is wrong."""
    model = TOOLS.get(name)
    if model is None:
        raise ToolFailure(f"There is no tool `{name}`; the tools are {', '.join(TOOLS)}.")
    if problem:
        raise ToolFailure(f"The input for {name} was not valid JSON ({problem}).")
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ToolFailure(_complaint(name, model, raw, error)) from None


def _complaint(
    name: str, model: type[ToolInput], raw: dict[str, object], error: ValidationError
) -> str:
    """The first thing wrong, in the order the model is best helped by: unknown parameters
    (all of them), then the first parameter missing or of the wrong type."""
    problems = error.errors()
    unknown = sorted(str(p["loc"][0]) for p in problems if p["type"] == "extra_forbidden")
    if unknown:
        return f"{name} has no parameter {', '.join(unknown)}."
    arg = str(problems[0]["loc"][0])
    kind = _kind(model.model_fields[arg].annotation)
    if raw.get(arg) is None:
        return f"{name} needs `{arg}` ({_JSON_TYPES[kind]})."
    return f"`{arg}` of {name} must be {_A_TYPE[kind]}."
