"""The shared core of every fake platform API: a real aiohttp server on a free port.

Each fake (Slack, GitLab, GitHub, Anthropic) is a `FakeServer` subclass that adds routes
speaking that platform's API. The server runs in its own thread with its own event loop,
so synchronous client libraries (PyGithub, python-gitlab, slack_sdk's WebClient) and
async ones can both talk to it. Every request is recorded; a request to a route the
fake does not know answers 501 and is recorded as unhandled, so a missing fake shows up
as a failure, not a hang. Tests can script failures (429, 502, 529 …) for the next N
calls of a route.

Each fake also checks every request against the platform's own published description
(`refuse`, overridden per platform) before answering. A request the real API would refuse
is answered the way that API refuses it, and it is recorded as a `Violation`; so is a
request the real API would silently misread. The suite fails a test that left a violation
behind (tests/fakes/violations.py), even when our code swallowed the error it got.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self, cast
from urllib.parse import parse_qsl

from aiohttp import web

Handler = Callable[[web.Request, "Recorded"], Awaitable[web.StreamResponse]]


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)
    status: int = 0
    path_args: dict[str, str] = field(default_factory=dict)
    raw_path: str = ""
    violations_recorded: bool = False
    """The path as sent, still percent-encoded (GitLab puts `group%2Fproject` in one segment)."""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.text, keep_blank_values=True))

    def params(self) -> dict[str, Any]:
        """The call's arguments, whichever way the client sent them (JSON, form or query)."""
        merged: dict[str, Any] = dict(self.query)
        content_type = self.headers.get("Content-Type", "")
        if self.body and "json" in content_type:
            body = self.json
            if isinstance(body, dict):
                merged.update(body)
        elif self.body and "form" in content_type:
            merged.update(self.form)
        return merged


@dataclass(frozen=True)
class Violation:
    """A request the real platform would refuse or misread, and why."""

    fake: str
    method: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.fake}: {self.method} {self.path}: {self.problem}"


_violations: list[Violation] = []
_violations_lock = threading.Lock()


def take_violations() -> list[Violation]:
    """Every violation any fake in this process recorded since the last call (and forget them)."""
    with _violations_lock:
        found = list(_violations)
        _violations.clear()
    return found


@dataclass
class ScriptedFailure:
    status: int
    remaining: int
    headers: dict[str, str]
    body: Any


class FakeServer:
    """Start with `start()` (or as a context manager); `url` is its base URL."""

    def __init__(self) -> None:
        self.app = web.Application(client_max_size=50 * 1024 * 1024)
        self.calls: list[Recorded] = []
        self.unhandled: list[Recorded] = []
        self._failures: dict[str, ScriptedFailure] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._routes: list[tuple[str, str, Handler]] = []
        self.violations: list[Violation] = []
        """What this fake found wrong in the requests it received (see `take_violations`)."""

    # -- set-up ---------------------------------------------------------------------
    def route(self, method: str, path: str, handler: Handler) -> None:
        """Add a route. `path` may hold `{name}` parts, matched one segment each."""
        self._routes.append((method.upper(), path, handler))

    def fail_next(
        self,
        path: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next `times` requests to `path` with `status` instead of the real reply."""
        with self._lock:
            self._failures[path] = ScriptedFailure(status, times, headers or {}, body)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- validation -------------------------------------------------------------------
    def violate(self, call: Recorded, problem: str) -> None:
        """Record that `call` is one the real platform would refuse or misread."""
        found = Violation(type(self).__name__, call.method, call.path, problem)
        with self._lock:
            self.violations.append(found)
        with _violations_lock:
            _violations.append(found)

    def take_violations(self) -> list[Violation]:
        """This fake's violations (and forget them, so the suite does not fail the test):
        for tests that send an invalid request on purpose and assert the refusal."""
        with self._lock:
            mine = list(self.violations)
            self.violations.clear()
        with _violations_lock:
            for found in mine:
                if found in _violations:
                    _violations.remove(found)
        return mine

    async def refuse(self, call: Recorded) -> web.StreamResponse | None:
        """The platform's answer to an invalid request, or None to serve it. Overrides call
        `violate` for each problem; a problem the platform ignores returns None."""
        return None

    # -- queries for tests --------------------------------------------------------------
    def calls_to(self, path_or_method: str) -> list[Recorded]:
        """Recorded calls whose path ends with the argument (e.g. "chat.update")."""
        with self._lock:
            return [c for c in self.calls if c.path.endswith(path_or_method)]

    def wait_for(
        self, predicate: Callable[[FakeServer], Any], timeout: float = 10.0, interval: float = 0.02
    ) -> Any:
        """Wait until `predicate(self)` is truthy and return its value, or fail loudly."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{type(self).__name__}: condition not met in {timeout}s")
            time.sleep(interval)

    # -- internals ----------------------------------------------------------------------
    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._runner = web.AppRunner(self.app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        server = cast(asyncio.Server, site._server)
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        loop.close()

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        parts = path.strip("/").split("/")
        for route_method, pattern, handler in self._routes:
            if route_method not in (method, "*"):
                continue
            pattern_parts = pattern.strip("/").split("/")
            if len(pattern_parts) != len(parts):
                continue
            found: dict[str, str] = {}
            for want, got in zip(pattern_parts, parts, strict=True):
                if want.startswith("{") and want.endswith("}"):
                    found[want[1:-1]] = got
                elif want != got:
                    break
            else:
                return handler, found
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        recorded = Recorded(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=body,
            raw_path=request.rel_url.raw_path,
        )
        with self._lock:
            self.calls.append(recorded)
        refusal = await self.refuse(recorded)
        if refusal is not None:
            recorded.status = refusal.status
            return refusal
        with self._lock:
            failure = self._failures.get(request.path)
            if failure is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    del self._failures[request.path]
        if failure is not None:
            recorded.status = failure.status
            payload = failure.body if failure.body is not None else {"message": "scripted failure"}
            return web.json_response(payload, status=failure.status, headers=failure.headers)
        matched = self._match(request.method, request.path)
        if matched is None:
            with self._lock:
                self.unhandled.append(recorded)
            self.violate(recorded, f"{type(self).__name__} has no route for it (answered 501)")
            recorded.status = 501
            return web.json_response(
                {"error": f"{type(self).__name__} has no route {request.method} {request.path}"},
                status=501,
            )
        handler, recorded.path_args = matched
        response = await handler(request, recorded)
        recorded.status = response.status
        return response
