"""Untrusted request bodies read into typed values, field by field, in one place per route.

Why: a signed request is still data someone else wrote. Every value a handler uses is read
through a pydantic model (`handlers.common.fields`: the forges) or `Obj` (Slack), which
checks its type and shape and names the field when it is wrong, so one `Malformed`
(answered 400) covers every way a body can be wrong: missing keys, `[]` where an object
belongs, `Infinity` or `1e999` in a number, `null` ids, lone surrogates, nesting a
thousand levels deep. Nothing past the boundary sees a raw dict.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from aiohttp import web

MAX_DEPTH = 64  # real payloads nest under 10 levels; deeper is an attack on recursion
MAX_TEXT = 1_000_000  # the longest text a platform sends (a GitLab note)
MAX_ID = 2**63 - 1
_SURROGATE = re.compile(r"[\ud800-\udfff]")
log = logging.getLogger(__name__)


def too_large(surface: str, request: web.Request) -> web.Response:
    """The answer to a body over the app's size limit (`request.read()` raised
    `HTTPRequestEntityTooLarge`): a plain 413 and one log line. A limit refusal is an
    expected answer to outside input, not a crash with a reference."""
    limit = request.client_max_size
    log.warning("%s request body over the %d-byte limit refused (413)", surface, limit)
    return web.json_response({"error": f"body over the {limit}-byte limit"}, status=413)


class Malformed(ValueError):
    """The body is not what the platform sends; `what` says where, in a few words."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _no_constant(name: str) -> NoReturn:
    raise Malformed(f"{name} is not a number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Malformed("a number out of range")
    return value


def parse_object(raw: bytes | str) -> dict[str, object]:
    """A JSON object, checked whole: finite numbers, valid text, bounded nesting."""
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise Malformed("nested too deeply") from None
    except Malformed:
        raise
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, an int too long to convert
        raise Malformed("not JSON") from None
    check_tree(value)
    if not isinstance(value, dict):
        raise Malformed("body is not an object")
    return value


def parse_json(raw: bytes | str) -> Obj:
    """`parse_object`, read through `Obj`."""
    return Obj(parse_object(raw), "body")


def parse_form(raw: bytes | str) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body; a repeated key is refused."""
    text = raw.decode("utf-8", "strict") if isinstance(raw, bytes) else raw
    pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=200)
    form = dict(pairs)
    if len(form) != len(pairs):
        raise Malformed("a form field given twice")
    for key, value in form.items():
        if _SURROGATE.search(key) or _SURROGATE.search(value):
            raise Malformed("form text is not valid Unicode")
    return form


def check_tree(value: object) -> None:
    """Walk a parsed value without recursion: depth, and text that encodes as UTF-8."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Malformed("nested too deeply")
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise Malformed("text is not valid Unicode")
        elif isinstance(item, dict):
            for key, child in item.items():
                if _SURROGATE.search(key):
                    raise Malformed("a key is not valid Unicode")
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


class Obj:
    """One JSON object; each accessor returns a typed value or raises `Malformed`.

    `opt_*` accessors treat a missing key and `null` alike (None) but still refuse a value
    of the wrong type: a wrong type is never quietly read as "absent".
    """

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    @classmethod
    def of(cls, value: object, where: str) -> Obj:
        if not isinstance(value, dict):
            raise Malformed(f"{where} is not an object")
        return cls(value, where)

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where != "body" else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str) -> object:
        """The value as sent, for comparisons against constants only."""
        return self.data.get(key)

    # -- text ------------------------------------------------------------------------------
    def text(self, key: str, pattern: re.Pattern[str] | None = None, limit: int = 1000) -> str:
        value = self.opt_text(key, pattern, limit)
        if value is None:
            raise Malformed(f"{self._name(key)} is missing")
        return value

    def opt_text(
        self, key: str, pattern: re.Pattern[str] | None = None, limit: int = 1000
    ) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise Malformed(f"{self._name(key)} is not text")
        if len(value) > limit:
            raise Malformed(f"{self._name(key)} is too long")
        if pattern is not None and not pattern.fullmatch(value):
            raise Malformed(f"{self._name(key)} has an unexpected form")
        return value

    # -- numbers and flags -----------------------------------------------------------------
    def integer(self, key: str, minimum: int = 1) -> int:
        value = self.opt_integer(key, minimum)
        if value is None:
            raise Malformed(f"{self._name(key)} is missing")
        return value

    def opt_integer(self, key: str, minimum: int = 1) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise Malformed(f"{self._name(key)} is not an integer")
        if not minimum <= value <= MAX_ID:
            raise Malformed(f"{self._name(key)} is out of range")
        return value

    def flag(self, key: str) -> bool:
        """A boolean that defaults to False when absent."""
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise Malformed(f"{self._name(key)} is not true or false")
        return value

    # -- nested ----------------------------------------------------------------------------
    def obj(self, key: str) -> Obj:
        value = self.opt_obj(key)
        if value is None:
            raise Malformed(f"{self._name(key)} is missing")
        return value

    def opt_obj(self, key: str) -> Obj | None:
        value = self.data.get(key)
        return None if value is None else Obj.of(value, self._name(key))

    def objs(self, key: str, limit: int = 100) -> list[Obj]:
        """A list of objects (a missing key is an empty list)."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > limit:
            raise Malformed(f"{self._name(key)} is not a list of objects")
        return [Obj.of(item, f"{self._name(key)}[{i}]") for i, item in enumerate(value)]
