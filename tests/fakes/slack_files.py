"""Files shared in the fake Slack workspace, served at their `url_private` as Slack does.

Slack's file object (docs.slack.dev/reference/objects/file-object) carries `url_private`,
`https://files.slack.com/files-pri/<team>-<file id>/<name>`, which answers only a request
with the bot token in an `Authorization: Bearer` header; without it Slack redirects to a
sign-in page (302). Here the host is the fake's own. `fetched` lists the paths asked for.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from tests.fakes.base import Recorded

if TYPE_CHECKING:
    from tests.fakes.slack import FakeSlack

_ids = itertools.count(1)


class SlackFiles:
    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self._bodies: dict[str, bytes] = {}
        self.fetched: list[str] = []
        fake.route("GET", "/files-pri/{where}/{name}", self._serve)

    def add(self, name: str, content: bytes, mimetype: str, *, size: int | None = None) -> Any:
        """A file object as a message's `files` carries it (`size` may lie, as a test wants)."""
        file_id = f"F{next(_ids):08d}"
        path = f"/files-pri/{self.fake.team_id}-{file_id}/{name}"
        self._bodies[path] = content
        url = self.fake.url + quote(path)
        return {
            "id": file_id,
            "created": 1_700_000_000,
            "timestamp": 1_700_000_000,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rsplit(".", 1)[-1],
            "user": "U0BOB",
            "mode": "hosted",
            "is_external": False,
            "size": len(content) if size is None else size,
            "url_private": url,
            "url_private_download": url + "?download=1",
        }

    async def _serve(self, request: web.Request, recorded: Recorded) -> web.StreamResponse:
        self.fetched.append(request.path)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        wanted = self.fake.token
        if (wanted is not None and token != wanted) or not token.startswith(("xoxb-", "xoxp-")):
            raise web.HTTPFound(f"{self.fake.url}/?redir={request.path}")
        body = self._bodies.get(request.path)
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="application/octet-stream")
