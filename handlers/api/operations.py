"""One declaration per operation: its method and path, the scope it needs, the models it
reads and answers, and the function that does it.

`run` is the one chain every operation goes through, in order: the token (401), the
token's rate limit (429), the scope (403), the query and the body read into their models
(422), then the operation. The OpenAPI description is generated from these declarations
(`handlers.api.openapi`), so what is documented is what runs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.commands.executor import Executor
from bot.identity.accounts import AccountStore
from bot.identity.api_tokens import ApiTokens, Scope
from handlers.api import auth
from handlers.api.problems import ApiProblem, invalid
from handlers.common.context import WebContext

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
IDEMPOTENCY = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
SSE = "text/event-stream"


@dataclass
class ApiContext:
    web: WebContext
    accounts: AccountStore
    tokens: ApiTokens
    executor: Executor


@dataclass(frozen=True)
class Call:
    """One authenticated request, read into its models."""

    request: web.Request
    api: ApiContext
    caller: auth.Caller
    body: Any
    query: Any

    @property
    def session_id(self) -> str:
        found = self.request.match_info.get("id", "")
        if not SESSION_ID.match(found):
            raise ApiProblem(404, "not-found", "Not found", "There is no such session of yours.")
        return found

    def request_id(self, fallback: str) -> str:
        """`Idempotency-Key` (per token): a retried request does not start or queue twice."""
        key = self.request.headers.get("Idempotency-Key")
        if key is None:
            return fallback
        if not IDEMPOTENCY.match(key):
            raise ApiProblem(
                400,
                "bad-idempotency-key",
                "Bad Idempotency-Key",
                "An Idempotency-Key is 1 to 100 letters, digits and `_.:-`.",
            )
        return f"api:{self.caller.token.id}:{key}"


Result = BaseModel | web.StreamResponse
Run = Callable[[Call], Awaitable[Result]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # under /api/v1, with `{id}` for a session
    name: str  # the operationId
    summary: str
    scope: Scope
    run: Run
    answer: type[BaseModel] | None  # None: a Server-Sent Events stream
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    refusals: tuple[int, ...] = field(default=(400, 401, 403, 404, 422, 429, 503))
    headers: tuple[str, ...] = ()  # request headers it reads (documented)


def _read(
    model: type[BaseModel] | None, load: Callable[[type[BaseModel]], BaseModel], where: str
) -> Any:
    if model is None:
        return None
    try:
        return load(model)
    except ValidationError as error:
        raise invalid(error, where) from None


async def run(request: web.Request, api: ApiContext, op: Operation) -> web.StreamResponse:
    caller = await auth.caller_of(request, api.accounts, api.tokens)
    limits = await auth.limit(api.web.aredis, caller, api.web.settings.api_rate_limit)
    caller.require(op.scope)
    query = _read(op.query, lambda m: m.model_validate(dict(request.query)), "query")
    raw = await request.read() if op.body is not None else b""
    body = _read(op.body, lambda m: m.model_validate_json(raw or b"{}"), "body")
    result = await op.run(Call(request, api, caller, body, query))
    if isinstance(result, web.StreamResponse):
        return result
    return web.json_response(
        result.model_dump(mode="json"),
        status=op.status,
        headers={"Cache-Control": "no-store", **limits},
    )


def handler(
    api: ApiContext, op: Operation
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await run(request, api, op)

    return handle
