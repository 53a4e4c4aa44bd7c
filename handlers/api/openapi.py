"""The OpenAPI 3.1 description, generated from the operations and the pydantic models
they read and answer (no framework: `model_json_schema` per model, gathered into
`components`). Served at `/api/v1/openapi.json`; `docs/openapi.json` is the same document,
and a test checks that the two agree (`python -m handlers.api.routes > docs/openapi.json`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from handlers.api.models import ProgressEvent, StreamEnd
from handlers.api.operations import SSE, Operation
from handlers.api.problems import MEDIA_TYPE, Problem

REF = "#/components/schemas/{model}"
TITLES = {
    400: "The request cannot be read (a malformed header or id).",
    401: "No token, or one that is unknown, revoked or expired.",
    403: "The token lacks the scope, or the person lacks the right.",
    404: "No such session of yours.",
    409: "The session's state does not allow it now.",
    422: "The request does not fit, or Repobox refuses it (the detail says why).",
    429: "The token's rate limit: wait `Retry-After` seconds.",
    503: "Repobox cannot reach its database: try again after `Retry-After` seconds.",
}


def _schemas(operations: Iterable[Operation]) -> tuple[dict[Any, Any], dict[str, Any]]:
    keys: set[tuple[type[BaseModel], JsonSchemaMode]] = {
        (Problem, "serialization"),
        (ProgressEvent, "serialization"),
        (StreamEnd, "serialization"),
    }
    for op in operations:
        if op.answer is not None:
            keys.add((op.answer, "serialization"))
        if op.body is not None:
            keys.add((op.body, "validation"))
    listed = sorted(keys, key=lambda k: (k[0].__name__, k[1]))
    mapping, top = models_json_schema(listed, ref_template=REF)
    return mapping, top.get("$defs", {})


def _parameters(op: Operation) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if "{id}" in op.path:
        found.append(
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
            }
        )
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            shown = _absent_not_null(prop)
            found.append(
                {"name": name, "in": "query", "required": name in required, "schema": shown}
            )
    for header in op.headers:
        found.append(
            {"name": header, "in": "header", "required": False, "schema": _HEADERS[header]}
        )
    return found


def _absent_not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is left out, never null: `T | None = None` is documented as `T`."""
    shown = {k: v for k, v in prop.items() if k != "title"}
    options = [o for o in shown.pop("anyOf", []) if o != {"type": "null"}]
    if len(options) == 1:
        shown = {**options[0], **shown}
    elif options:
        shown["anyOf"] = options
    if shown.get("default", 0) is None:
        del shown["default"]
    return shown


_HEADERS: dict[str, dict[str, Any]] = {
    "Idempotency-Key": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,100}$"},
    "Last-Event-ID": {"type": "string", "pattern": "^[0-9]{1,20}(-[0-9]{1,20})?$"},
}


SSE_EVENT = {
    "type": "object",
    "description": "One Server-Sent Event: `progress` (data: a `ProgressEvent` as JSON, id: "
    "its stream id, for `Last-Event-ID`) or, with `until=idle`, a last `end`.",
    "properties": {
        "event": {"enum": ["progress", "end"]},
        "id": {"type": "string"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {
                "anyOf": [
                    {"$ref": REF.format(model="ProgressEvent")},
                    {"$ref": REF.format(model="StreamEnd")},
                ]
            },
        },
        "retry": {"type": "integer"},
    },
}


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": TITLES.get(status, "A problem."),
        "content": {MEDIA_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}},
    }


def _operation(op: Operation, mapping: dict[Any, Any]) -> dict[str, Any]:
    if op.answer is None:
        ok: dict[str, Any] = {
            "description": "Server-Sent Events: `progress` events (JSON), then `end`.",
            "content": {SSE: {"schema": SSE_EVENT}},
        }
    else:
        ok = {
            "description": op.answer.__doc__.strip().splitlines()[0]
            if op.answer.__doc__
            else op.summary,
            "content": {"application/json": {"schema": mapping[(op.answer, "serialization")]}},
        }
    described: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "security": [{"token": [op.scope.value]}],
        "parameters": _parameters(op),
        "responses": {str(op.status): ok, **{str(s): _problem(s) for s in op.refusals}},
    }
    if op.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": mapping[(op.body, "validation")]}},
        }
    return described


def describe(operations: Iterable[Operation], server: str) -> dict[str, Any]:
    ops = list(operations)
    mapping, schemas = _schemas(ops)
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, mapping)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Repobox API",
            "version": "1",
            "description": "Drive Repobox's coding sessions over HTTP: start, prompt, follow, "
            "ship. Authenticate with a personal API token from Settings.",
        },
        "servers": [{"url": f"{server}/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (`rbx_…`), made on the settings "
                    "page; scopes `read` and `write`.",
                }
            },
        },
    }
