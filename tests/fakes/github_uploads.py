"""Images pasted into GitHub comments, served where github.com serves them.

GitHub keeps a pasted image at `https://github.com/user-attachments/assets/<uuid>` (the web
host, not the REST API). For a private repository only a signed-in request gets it: with a
token, github.com answers with a redirect to a short-lived signed URL on
private-user-images.githubusercontent.com. The fake serves the bytes itself to a known
token (its host stands for both) and answers 404 to anyone else, as github.com does.
`fetched` lists the paths asked for.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from aiohttp import web

from tests.fakes.base import Recorded

if TYPE_CHECKING:
    from tests.fakes.github import FakeGitHub


class GitHubUploads:
    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self._bodies: dict[str, bytes] = {}
        self.fetched: list[str] = []
        fake.route("GET", "/user-attachments/assets/{asset}", self._serve)

    def add(self, content: bytes) -> str:
        """The URL of a new upload, as a comment's Markdown links it."""
        path = f"/user-attachments/assets/{uuid.uuid4()}"
        self._bodies[path] = content
        return self.fake.url + path

    async def _serve(self, request: web.Request, recorded: Recorded) -> web.StreamResponse:
        self.fetched.append(request.path)
        if self.fake._authenticate(recorded.headers) is None:
            raise web.HTTPNotFound()
        body = self._bodies.get(request.path)
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="image/png")
