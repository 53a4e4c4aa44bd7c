"""Repository webhooks on the fake GitHub and project hooks on the fake GitLab, as the
doctor reads them.

Every `FakeGitHub` / `FakeGitLab` has them as `fake.hooks` (none set: an empty list, so
the doctor on any fake finds no hook rather than an unknown route). Routes, as the hosts describe
them: GitHub `GET /repos/{owner}/{repo}/hooks` (docs.github.com/rest/repos/webhooks#list-
repository-webhooks: admin rights on the repository, else 404), GitLab
`GET /projects/:id/hooks` (docs.gitlab.com/api/project_webhooks/#list-webhooks-for-a-
project: Maintainer or more, else 403). Hooks are plain data a test sets.
"""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

from .base import Recorded
from .github import ApiError, FakeGitHub, User
from .gitlab import MAINTAINER, FakeGitLab, _Call
from .gitlab import ApiError as GitLabError

NOW = "2026-01-01T00:00:00Z"
GITLAB_FLAGS = (
    "push_events",
    "issues_events",
    "confidential_issues_events",
    "merge_requests_events",
    "tag_push_events",
    "note_events",
    "confidential_note_events",
    "job_events",
    "pipeline_events",
    "wiki_page_events",
    "deployment_events",
    "releases_events",
)


class GitHubHooks:
    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.hooks: dict[str, list[dict[str, Any]]] = {}  # full name (lower) → hooks
        self._ids = itertools.count(4001)
        fake._api("GET", "/repos/{owner}/{repo}/hooks", self._list)

    def add_hook(self, full_name: str, url: str, events: list[str], active: bool = True) -> None:
        with self.fake._state:
            hook_id = next(self._ids)
            api = f"{self.fake.url}/repos/{full_name}/hooks/{hook_id}"
            self.hooks.setdefault(full_name.lower(), []).append({
                "type": "Repository",
                "id": hook_id,
                "name": "web",
                "active": active,
                "events": events,
                "config": {"content_type": "json", "insecure_ssl": "0", "url": url},
                "updated_at": NOW,
                "created_at": NOW,
                "url": api,
                "test_url": f"{api}/test",
                "ping_url": f"{api}/pings",
                "deliveries_url": f"{api}/deliveries",
                "last_response": {"code": 200, "status": "active", "message": "OK"},
            })  # fmt: skip

    def _list(self, call: Recorded, me: User) -> web.Response:
        repo = self.fake._repo_for(call, me)
        if self.fake._role(repo, me.login) != "admin":
            raise ApiError(404, "Not Found")
        return self.fake._json(me, list(self.hooks.get(repo.full_name.lower(), [])))


class GitLabHooks:
    def __init__(self, fake: FakeGitLab) -> None:
        self.fake = fake
        self.hooks: dict[int, list[dict[str, Any]]] = {}  # project id → hooks
        self._ids = itertools.count(5001)
        fake._api_route("GET", "projects/{id}/hooks", self._list)

    def add_hook(self, project_id: int, url: str, events: set[str]) -> None:
        """`events`: the `*_events` flags that are on (the rest are off)."""
        with self.fake._state:
            hook = {
                "id": next(self._ids),
                "url": url,
                "name": "Repobox",
                "description": "",
                "project_id": project_id,
                "enable_ssl_verification": True,
                "created_at": NOW,
                "alert_status": "executable",
                "disabled_until": None,
                "push_events_branch_filter": "",
                "branch_filter_strategy": "wildcard",
                "custom_webhook_template": "",
                **{flag: flag in events for flag in GITLAB_FLAGS},
            }
            self.hooks.setdefault(project_id, []).append(hook)

    async def _list(self, c: _Call) -> web.Response:
        with self.fake._state:
            if c.p.members.get(c.user.id, 0) < MAINTAINER:
                raise GitLabError(403, "403 Forbidden")
            return self.fake._page(c, list(self.hooks.get(c.p.id, [])))
