"""Checks a request to the fake GitHub against GitHub's own OpenAPI description.

What is checked, as GitHub would: the method and path exist (else 404), path parameters
and query parameters match their schemas (types, enums; an unknown query parameter is
recorded, since GitHub silently ignores it), and a JSON body matches the operation's
request schema (else 422 "Validation Failed"). The description is the pinned
`@octokit/openapi` (tests/fakes/descriptions.py); OpenAPI 3.0's `nullable` is rewritten
into JSON Schema once, when it is loaded.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.fakes.descriptions import github_description_path

BASE = "urn:github-openapi"
PAGING = {"page", "per_page"}  # PyGithub follows `Link` URLs, which carry these


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    literal_parts: int
    spec: dict[str, Any]

    @property
    def docs(self) -> str:
        return str(self.spec.get("externalDocs", {}).get("url", "https://docs.github.com/rest"))


@dataclass(frozen=True)
class Problem:
    status: int  # what GitHub answers: 404, 422
    message: str
    field: str = ""
    refuse: bool = True  # False: GitHub ignores it; record it and serve the request


def _nullable_to_json_schema(node: Any) -> None:
    """OpenAPI 3.0 `nullable: true` → JSON Schema's `anyOf` with null, in place."""
    if isinstance(node, dict):
        for value in node.values():
            _nullable_to_json_schema(value)
        if node.pop("nullable", False) is True:
            inner = dict(node)
            node.clear()
            node["anyOf"] = [{"type": "null"}, inner]
    elif isinstance(node, list):
        for value in node:
            _nullable_to_json_schema(value)


class GitHubDescription:
    """The loaded description: operations by method, and a schema registry for `$ref`s."""

    def __init__(self, doc: dict[str, Any]) -> None:
        _nullable_to_json_schema(doc)
        self.doc = doc
        self.registry: Registry[Any] = Registry().with_resource(
            BASE, Resource.from_contents(doc, default_specification=DRAFT4)
        )
        self.operations: dict[str, list[Operation]] = {}
        for template, item in doc["paths"].items():
            regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
            literal = sum(1 for part in template.split("/") if part and "{" not in part)
            for method, spec in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    op = Operation(method.upper(), template, re.compile(regex), literal, spec)
                    self.operations.setdefault(op.method, []).append(op)
        for ops in self.operations.values():
            ops.sort(key=lambda op: -op.literal_parts)

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.operations.get(method.upper(), []):
            found = op.pattern.match(path)
            if found:
                return op, found.groupdict()
        return None

    def _parameter(self, param: dict[str, Any]) -> dict[str, Any]:
        ref = param.get("$ref")
        if isinstance(ref, str):
            node: Any = self.doc
            for part in ref.removeprefix("#/").split("/"):
                node = node[part]
            return dict(node)
        return param

    def _schema_errors(self, value: Any, pointer: str) -> list[str]:
        validator = Draft4Validator({"$ref": f"{BASE}#{pointer}"}, registry=self.registry)
        return [
            f"{'/'.join(str(p) for p in e.absolute_path) or 'body'}: {e.message}"
            for e in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        ]

    def check(
        self, method: str, path: str, query: dict[str, str], body: bytes, content_type: str
    ) -> tuple[Operation | None, list[Problem]]:
        """The operation `method path` names, and what is wrong with the request."""
        matched = self.find(method, path)
        if matched is None:
            return None, [Problem(404, f"{method} {path} is not in GitHub's REST API")]
        op, path_args = matched
        problems: list[Problem] = []
        params = [self._parameter(p) for p in op.spec.get("parameters", [])]
        for param in params:
            where, name = param.get("in"), str(param.get("name"))
            given = path_args.get(name) if where == "path" else query.get(name)
            if where not in ("path", "query"):
                continue
            if given is None:
                if param.get("required"):
                    problems.append(Problem(422, f"{name} is required", name))
                continue
            for error in _parameter_errors(given, param.get("schema", {})):
                problems.append(Problem(422 if where == "query" else 404, f"{name}: {error}", name))
        known = {str(p.get("name")) for p in params if p.get("in") == "query"}
        for name in sorted(set(query) - known - PAGING):
            problems.append(
                Problem(200, f"query parameter {name!r} is not in {op.template}", name, False)
            )
        problems.extend(self._body_problems(op, body, content_type))
        return op, problems

    def _body_problems(self, op: Operation, body: bytes, content_type: str) -> list[Problem]:
        request = op.spec.get("requestBody")
        if not body:
            if request and request.get("required"):
                return [Problem(422, "a JSON body is required")]
            return []
        if request is None or "application/json" not in request.get("content", {}):
            return [Problem(422, f"{op.method} {op.template} takes no JSON body")]
        if "json" not in content_type:
            return [Problem(422, f"body sent as {content_type or 'no type'}, not JSON")]
        try:
            data = json.loads(body)
        except ValueError:
            return [Problem(400, "Problems parsing JSON")]
        escaped = op.template.replace("~", "~0").replace("/", "~1")
        pointer = (
            f"/paths/{escaped}/{op.method.lower()}/requestBody/content/application~1json/schema"
        )
        validated = f"/paths/{quote(escaped, safe='~{}')}" + pointer[len("/paths/" + escaped) :]
        problems = [Problem(422, error) for error in self._schema_errors(data, validated)]
        known = self._properties(self._node(pointer))
        if isinstance(data, dict) and known:
            for name in sorted(set(data) - known):
                message = f"body field {name!r} is not in {op.template}; GitHub ignores it"
                problems.append(Problem(200, message, name, refuse=False))
        return problems

    def _node(self, pointer: str) -> Any:
        node: Any = self.doc
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _properties(self, schema: Any) -> set[str]:
        """The property names a request schema names, through `$ref` and `*Of`."""
        if not isinstance(schema, dict):
            return set()
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._properties(self._node(ref.removeprefix("#")))
        names = set(schema.get("properties", {}))
        for key in ("allOf", "anyOf", "oneOf"):
            for part in schema.get(key, []):
                names |= self._properties(part)
        return names


def _parameter_errors(given: str, schema: dict[str, Any]) -> list[str]:
    """A path or query string against its (simple) schema: type, enum, bounds."""
    kind = schema.get("type")
    value: Any = given
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", given):
            return [f"{given!r} is not an integer"]
        value = int(given)
    elif kind == "boolean":
        if given not in ("true", "false"):
            return [f"{given!r} is not true or false"]
        value = given == "true"
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        return [f"{given!r} is not one of {enum}"]
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return [f"{value} is below {schema['minimum']}"]
        if "maximum" in schema and value > schema["maximum"]:
            return [f"{value} is above {schema['maximum']}"]
    return []


@functools.cache
def github_description() -> GitHubDescription:
    """Loaded once per test process (about a second)."""
    return GitHubDescription(json.loads(github_description_path().read_text()))
