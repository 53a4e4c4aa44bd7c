"""pydantic pieces for bodies someone else wrote: a strict base model, the field types the
routes need, and `read`, which turns a `ValidationError` into one `Malformed` (a 400)
naming the field in a few words.

Strict: `"7"` is not 7, `true` is not 1, `1.0` is not an id. Unknown keys are ignored (a
platform adds fields to its payloads). Optional fields take a missing key and `null`
alike, but a value of the wrong type is never quietly read as "absent". `parse_object`
(`handlers.common.payload`) has already refused what JSON allows and we do not: infinite
numbers, lone surrogates, deep nesting.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from handlers.common.payload import MAX_ID, Malformed

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

# What a failed check of pydantic's is called in the one line the log gets.
SAID = {
    "missing": "is missing",
    "string_type": "is not text",
    "string_too_long": "is too long",
    "value_error": "has an unexpected form",
    "int_type": "is not an integer",
    "greater_than_equal": "is out of range",
    "less_than_equal": "is out of range",
    "bool_type": "is not true or false",
    "model_type": "is not an object",
    "model_attributes_type": "is not an object",
    "dict_type": "is not an object",
}


class Payload(BaseModel):
    """A part of a body: strict types, unknown keys ignored, never changed once read."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Flag = Annotated[bool, BeforeValidator(lambda value: False if value is None else value)]
Object = dict[str, object]  # an object whose fields are read later, or not at all


def at_most(limit: int) -> StringConstraints:
    """A text of at most `limit` characters."""
    return StringConstraints(max_length=limit)


def shaped(pattern: re.Pattern[str]) -> AfterValidator:
    """A text that `pattern` matches whole (the platform's form of an id, a path, a URL)."""

    def matches(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError("unexpected form")
        return value

    return AfterValidator(matches)


Text = Annotated[str, at_most(1000)]


def read(model: type[M], value: object, where: str = "body") -> M:
    """`value` as `model`, or one `Malformed` naming the first field that is wrong."""
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise Malformed(_what(error, where)) from None


def read_as(kind: TypeAdapter[T], value: object, where: str) -> T:
    """One value (a field read only when another one was absent) as `kind`."""
    try:
        return kind.validate_python(value)
    except ValidationError as error:
        raise Malformed(_what(error, where)) from None


def first(value: T | None, otherwise: Callable[[], T | None]) -> T | None:
    """`value`, or when it is absent (or 0, or empty) what `otherwise` reads: the second
    field is read, and so checked, only when it is needed."""
    return value or otherwise()


def _what(error: ValidationError, where: str) -> str:
    detail = error.errors()[0]
    parts = [where] if where != "body" else []
    name = ".".join([*parts, *(str(p) for p in detail["loc"])]) or where
    kind = detail["type"]
    if detail["input"] is None and kind.endswith("_type"):
        kind = "missing"  # `null` where a value must be: as good as missing
    return f"{name} {SAID.get(kind, 'is not valid')}"
