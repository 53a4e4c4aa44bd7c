"""Every error of the API in one shape: RFC 9457 problem details (`application/problem+json`).

Each refusal a chat surface gives has its status and type here, mapped from the one error
hierarchy (`bot.core.errors`): a `NotFound` is a 404, a `Forbidden` a 403, a `Conflict` (the
session's state does not allow it) a 409, any other `UserError` a 422; the request's own
shape is a 400 or a 422 with the fields at fault. The `detail` is the very sentence the chat
surfaces say. A crash is a 500 that names a reference to look up in the logs, never the
error itself; a Redis outage is a 503 with `Retry-After`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.errors import Conflict, Forbidden, NotFound, UserError
from handlers.common import outage

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPES = "/api/v1/problems/"  # relative URIs: `docs/api.md` lists every type
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FieldError(BaseModel):
    """One field of the request at fault."""

    where: str = Field(description="The field, as a dotted path (`body.repo`, `query.limit`).")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with `errors` for a request that did not validate."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem (`/api/v1/problems/…`).")
    title: str = Field(description="The kind of problem, in a few words.")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What happened, in words for people.")
    instance: str | None = Field(default=None, description="The path that was asked for.")
    errors: list[FieldError] | None = None
    reference: str | None = Field(default=None, description="A crash's reference in the logs.")


class ApiProblem(Exception):
    """Raised by the API's handlers for a refusal that is not a `UserError` of the domain."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.headers = dict(headers or {})
        self.errors = errors


def respond(
    request: web.Request,
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    errors: list[FieldError] | None = None,
    reference: str | None = None,
) -> web.Response:
    body = Problem(
        type=f"{TYPES}{kind}",
        title=title,
        status=status,
        detail=detail,
        instance=request.path,
        errors=errors,
        reference=reference,
    )
    return web.Response(
        status=status,
        text=json.dumps(body.model_dump(exclude_none=True)),
        content_type=MEDIA_TYPE,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def invalid(error: ValidationError, where: str) -> ApiProblem:
    """A pydantic refusal of the body or query, field by field (never the values sent)."""
    found = [
        FieldError(
            where=".".join([where, *(str(p) for p in e["loc"])]), message=str(e["msg"])[:200]
        )
        for e in error.errors(include_url=False, include_input=False)[:20]
    ]
    return ApiProblem(
        422, "invalid-request", "Invalid request", "The request does not fit.", errors=found
    )


def _domain(request: web.Request, error: UserError) -> web.Response:
    detail = str(error)
    if isinstance(error, NotFound):
        return respond(request, 404, "not-found", "Not found", detail)
    if isinstance(error, Forbidden):
        return respond(request, 403, "forbidden", "Forbidden", detail)
    if isinstance(error, Conflict):
        return respond(request, 409, "conflict", "Not now", detail)
    return respond(request, 422, "refused", "Refused", detail)


_HTTP = {
    404: ("no-such-route", "No such route", "There is nothing at this path."),
    405: ("method-not-allowed", "Method not allowed", "This path does not take that method."),
    413: ("too-large", "Too large", "The request body is too large."),
}


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The API's outermost middleware: whatever goes wrong leaves as a problem document."""
    try:
        return await handler(request)
    except ApiProblem as problem:
        return respond(
            request,
            problem.status,
            problem.kind,
            problem.title,
            problem.detail,
            headers=problem.headers,
            errors=problem.errors,
        )
    except UserError as error:
        return _domain(request, error)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        kind, title, detail = _HTTP.get(error.status, ("http", error.reason, error.reason))
        return respond(request, error.status, kind, title, detail)
    except Exception as error:
        if outage.is_outage(error):
            return respond(
                request,
                503,
                "unavailable",
                "Unavailable",
                "Repobox cannot reach its database just now; try again shortly.",
                headers=outage.headers(),
            )
        reference = uuid.uuid4().hex[:12]
        log.exception(
            "API request %s %s failed (reference %s)", request.method, request.path, reference
        )
        return respond(
            request,
            500,
            "internal",
            "Internal error",
            f"Something went wrong on our side (reference {reference}).",
            reference=reference,
        )
