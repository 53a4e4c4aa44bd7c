"""Values kept as JSON (in Redis, the event streams, a cookie) and read back by any version.

The values themselves are plain frozen dataclasses, built in code without ceremony; pydantic
checks them where they come back in (`load`), against the dataclass's own annotations, and
writes them out (`dump`). Older versions stored less: a field missing, a null or an empty
string where there is now a default. The annotated types below say how a field reads them
(`Text` is `str(x or "")`, as the hand-written readers had it), so every stored shape still
loads and no value needs a reader of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, TypeVar, cast

from pydantic import BeforeValidator, TypeAdapter

T = TypeVar("T")
JsonObject = dict[str, object]  # what `to_dict` gives: `json.dumps` takes it as it is


def empty_as(default: object) -> BeforeValidator:
    """Read a stored null, "", 0 or empty list as `default` (`data.get(x) or default`)."""
    return BeforeValidator(lambda value: value or default)


def text_or(default: str) -> BeforeValidator:
    """Read any stored value as its text, an empty one as `default` (`str(x or default)`):
    what the hand-written readers did, so nothing they read fails now."""
    return BeforeValidator(lambda value: str(value or default))


def _objects(value: object) -> object:
    """A stored list's objects; a null (or anything but a list) is an empty list."""
    if not isinstance(value, list | tuple):
        return ()
    return [item for item in value if isinstance(item, Mapping)]


Text = Annotated[str, text_or("")]
Count = Annotated[int, empty_as(0)]
Amount = Annotated[float, empty_as(0.0)]
Maybe = Annotated[T | None, empty_as(None)]  # an empty value is no value
Records = Annotated[tuple[T, ...], BeforeValidator(_objects)]


_ADAPTERS: dict[type[object], TypeAdapter[object]] = {}


def _adapter(cls: type[object]) -> TypeAdapter[object]:
    """One per class, made on first use: building the validator is the slow part."""
    found = _ADAPTERS.get(cls)
    if found is None:
        found = _ADAPTERS[cls] = TypeAdapter(cls)
    return found


def load(cls: type[T], data: object) -> T:
    """`data` (decoded JSON) as a `cls`; pydantic's `ValidationError` (a `ValueError`) when
    it is not one."""
    return cast(T, _adapter(cls).validate_python(data))


def dump(value: object) -> JsonObject:
    """A dataclass's fields as JSON data: enums as their values, tuples as lists."""
    data = _adapter(type(value)).dump_python(value, mode="json")
    if not isinstance(data, dict):
        raise TypeError(f"{type(value).__name__} is not a record")
    return data
