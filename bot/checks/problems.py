"""`.repobox.yml`'s mistakes, each named with its line, its field and what was expected, so
the person who wrote the file can fix it from the thread.

pydantic says where a value failed (`loc`, such as `("checks", 1, "name")`); the YAML node
tree, walked along the same path, says on which line that value was written, and how
(`yes`, not `True`). Problems read top to bottom, in the order of the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import yaml
from pydantic import ValidationError

from bot.checks.config import MAX_CHECKS
from bot.checks.schema import (
    CHECK_KEYS,
    EXPECTED,
    NETWORK_KEYS,
    REVIEW_KEYS,
    TOP_KEYS,
    UNIQUE_NAME,
)

MISSING = object()  # a required field that is not there at all
UNKNOWN_KEY = frozenset({"extra_forbidden", "invalid_key"})
Loc = tuple[int | str, ...]
RANK = {
    key: index for keys in (TOP_KEYS, CHECK_KEYS, REVIEW_KEYS) for index, key in enumerate(keys)
}


@dataclass(frozen=True)
class Problem:
    line: int
    order: tuple[int, ...]  # on one line: the file's order of fields, unknown keys first
    text: str


def problems(error: ValidationError | None, data: object, root: yaml.Node) -> list[str]:
    """Every mistake in `data` (loaded from `root`), in the order of the file."""
    details = error.errors() if error is not None else []
    found = [_problem(d["type"], d["loc"], d["input"], d["msg"], root) for d in details]
    failed = {d["loc"][1] for d in details if len(d["loc"]) > 1 and d["loc"][0] == "checks"}
    for index, name in _duplicates(data, failed):
        at: Loc = ("checks", index)
        found.append(_say(_walk(root, at), _order(at), f"checks[{index}].name", UNIQUE_NAME, name))
    return [p.text for p in sorted(found, key=lambda p: (p.line, p.order))]


def _problem(kind: str, loc: Loc, given: object, message: str, root: yaml.Node) -> Problem:
    """One of pydantic's errors, said with the line and the words of the file."""
    if kind in UNKNOWN_KEY:
        parent = loc[:-1]
        key = given if kind == "invalid_key" else loc[-1]  # a key that is not text: as is
        known = (
            REVIEW_KEYS
            if parent == ("review",)
            else NETWORK_KEYS
            if parent == ("network",)
            else CHECK_KEYS
            if parent
            else TOP_KEYS
        )
        field = f"{_label(parent)}.{key}" if parent else str(key)
        expected = "one of " + ", ".join(known) + " (unknown key)"
        node = _key_node(_walk(root, parent), key)
        return _say(node, (*_order(parent), -1), field, expected, None)
    pattern = "".join("[]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    if pattern == "mcp" and kind == "value_error" and isinstance(given, dict):
        number = _walk(root, loc).start_mark.line + 1  # one server is wrong: say which and how
        return Problem(
            number, _order(loc), f"line {number}: {message.removeprefix('Value error, ')}"
        )
    got = MISSING if kind == "missing" else given
    field = _label(loc) or "(top level)"
    return _say(_walk(root, loc), _order(loc), field, EXPECTED.get(pattern, message), got)


def _say(
    node: yaml.Node, order: tuple[int, ...], field: str, expected: str, got: object
) -> Problem:
    number = node.start_mark.line + 1
    if got is not None and got is not MISSING and isinstance(node, yaml.ScalarNode):
        got = node.value or got  # as written: `yes`, not `True`
    shown = "" if got is None else f", got {_show(got)}"
    return Problem(number, order, f"line {number}, `{field}`: expected {expected}{shown}")


def _duplicates(data: object, failed: set[int | str]) -> Iterator[tuple[int, str]]:
    """Checks that are valid but for a name an earlier valid check already has."""
    checks = data.get("checks") if isinstance(data, dict) else None
    if not isinstance(checks, list) or len(checks) > MAX_CHECKS:
        return
    seen: set[str] = set()
    for index, item in enumerate(checks):
        if index in failed or not isinstance(item, dict):
            continue
        name = str(item["name"])
        if name in seen:
            yield index, name
        seen.add(name)


def _label(loc: Loc) -> str:
    """`("checks", 1, "name")` as people read it: `checks[1].name`."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _order(loc: Loc) -> tuple[int, ...]:
    """Where a field comes in a walk of the file: by index in a list, by its place among
    the known keys in a mapping (an unknown key comes before them: -1)."""
    return tuple(p if isinstance(p, int) else RANK.get(p, -1) for p in loc)


def _walk(root: yaml.Node, loc: Loc) -> yaml.Node:
    """The node written for `loc`, or the nearest one above it (a missing field: its check)."""
    node = root
    for part in loc:
        child = _item(node, part) if isinstance(part, int) else _child(node, part)
        if child is None:
            break
        node = child
    return node


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    """The value node under `key` of a mapping node, if there is one."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return _node(value_node)
    return None


def _key_node(node: yaml.Node, key: object) -> yaml.Node:
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
                return key_node
    return node


def _node(value: object) -> yaml.Node | None:
    return value if isinstance(value, yaml.Node) else None


def _item(node: yaml.Node, index: int) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and index < len(node.value):
        return _node(node.value[index])
    return node


def _show(value: object) -> str:
    """A value as the person wrote it, short: `soon`, a list, a mapping."""
    if value is MISSING:
        return "nothing (it is missing)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = "nothing" if value is None else str(value).replace("`", "'")
    text = text if len(text) <= 40 else text[:39] + "…"
    return f"`{text}`"
