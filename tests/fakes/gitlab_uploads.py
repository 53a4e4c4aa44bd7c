"""Files pasted into GitLab notes and descriptions (Markdown uploads) on the fake GitLab.

GitLab keeps a pasted image at `/uploads/<secret>/<filename>`, relative to the project
(the web page shows it under `<GITLAB_URL>/<group>/<project>/uploads/…`). That web URL
takes only a browser's session cookie; a token reads the same file through
`GET /api/v4/projects/:id/uploads/:secret/:filename` (GitLab 17.4+,
docs.gitlab.com/api/project_markdown_uploads), which answers with the file's bytes, or
404 to a caller who is not a member or a secret and name that do not match. `fetched` lists
the API paths asked for.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.gitlab import FakeGitLab, ProjectRef, _Call


class GitLabUploads:
    def __init__(self, fake: FakeGitLab) -> None:
        self.fake = fake
        self._files: dict[tuple[int, str, str], bytes] = {}
        self.fetched: list[str] = []
        fake._api_route("GET", "projects/{id}/uploads/{secret}/{filename}", self._serve)

    def add(self, project: ProjectRef, filename: str, content: bytes) -> str:
        """The project-relative Markdown URL of a new upload, as POST /uploads returns it."""
        with self.fake._state:
            project_id = self.fake._project(project).id
        secret = secrets.token_hex(16)
        self._files[(project_id, secret, filename)] = content
        return f"/uploads/{secret}/{filename}"

    async def _serve(self, c: _Call) -> web.StreamResponse:
        self.fetched.append(c.request.path)
        if c.user.id not in c.p.members:
            return web.json_response({"message": "404 Project Not Found"}, status=404)
        body = self._files.get((c.p.id, c.args["secret"], c.args["filename"]))
        if body is None:
            return web.json_response({"message": "404 Not Found"}, status=404)
        return web.Response(body=body, content_type="application/octet-stream")
