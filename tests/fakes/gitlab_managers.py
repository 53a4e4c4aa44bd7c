"""Checks a call to the fake GitLab against python-gitlab's managers.

Each python-gitlab manager names a REST path (`_path`, e.g.
`/projects/{project_id}/merge_requests`) and the attributes GitLab takes there: required
and optional on create (`_create_attrs`) and update (`_update_attrs`), and the list
filters (`_list_filters`). A request whose path no manager names is recorded (unless
allow-listed); a create or update missing a required attribute, or sending one the
manager does not know, answers GitLab's 400 `{"error": ...}`; an unknown list filter is
recorded and served, since GitLab ignores it.
"""

from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from gitlab.base import RESTManager
from gitlab.v4 import objects

PAGING = {"page", "per_page", "pagination", "order_by", "sort", "id_after", "id_before"}


@dataclass
class Endpoint:
    """What the managers sharing one path say about it."""

    template: str
    parts: tuple[str, ...]
    create_required: set[str] = field(default_factory=set)
    create_optional: set[str] = field(default_factory=set)
    create_exclusive: set[str] = field(default_factory=set)
    update_required: set[str] = field(default_factory=set)
    update_optional: set[str] = field(default_factory=set)
    list_filters: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Problem:
    message: str
    refuse: bool  # False: GitLab ignores it, so record it and serve the request


@functools.cache
def endpoints() -> list[Endpoint]:
    found: dict[str, Endpoint] = {}
    for _, cls in inspect.getmembers(objects, inspect.isclass):
        path = getattr(cls, "_path", None)
        if not issubclass(cls, RESTManager) or not isinstance(path, str):
            continue
        parts = tuple(re.sub(r"\{\w+\}", "{}", path).strip("/").split("/"))
        end = found.setdefault(path, Endpoint(path, parts))
        create, update = cls._create_attrs, cls._update_attrs
        end.create_required |= set(create.required)
        end.create_optional |= set(create.optional)
        end.create_exclusive |= set(create.exclusive)
        end.update_required |= set(update.required)
        end.update_optional |= set(update.optional)
        end.list_filters |= set(getattr(cls, "_list_filters", None) or ())
    return sorted(found.values(), key=lambda e: -sum(p != "{}" for p in e.parts))


def _matches(template: tuple[str, ...], parts: list[str]) -> bool:
    return len(template) == len(parts) and all(
        want in ("{}", got) for want, got in zip(template, parts, strict=True)
    )


def check(method: str, raw_path: str, params: dict[str, object]) -> list[Problem]:
    """What is wrong with `method raw_path` (under /api/v4) and its arguments."""
    parts = [unquote(p) for p in raw_path.removeprefix("/api/v4/").strip("/").split("/")]
    for end in endpoints():
        if _matches(end.parts, parts):
            return _collection(end, method, params)
        if _matches((*end.parts, "{}"), parts):
            return _item(end, method, params)
    return [Problem(f"{method} {raw_path} is not a path python-gitlab's managers know", True)]


def _attrs(
    params: dict[str, object], required: set[str], optional: set[str], exclusive: set[str]
) -> list[Problem]:
    problems = [Problem(f"{name} is missing", True) for name in sorted(required - set(params))]
    if exclusive and not exclusive & set(params):
        problems.append(Problem(f"{', '.join(sorted(exclusive))} are missing", True))
    known = required | optional | exclusive
    if known:
        for name in sorted(set(params) - known):
            problems.append(Problem(f"{name} is not an attribute GitLab takes here", True))
    return problems


def _collection(end: Endpoint, method: str, params: dict[str, object]) -> list[Problem]:
    if method == "POST":
        return _attrs(params, end.create_required, end.create_optional, end.create_exclusive)
    if method == "GET" and end.list_filters:
        unknown = set(params) - end.list_filters - PAGING
        return [
            Problem(f"list filter {name!r} is not one GitLab takes", False)
            for name in sorted(unknown)
        ]
    return []


def _item(end: Endpoint, method: str, params: dict[str, object]) -> list[Problem]:
    if method == "PUT":
        return _attrs(params, end.update_required, end.update_optional, set())
    return []
