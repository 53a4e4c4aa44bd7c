"""The `gitlab` provider: python-gitlab against `GITLAB_URL` with `GITLAB_TOKEN`.

Projects are named by path (`group/project`); objects are built `lazy=True`, so a call
costs one request. Git gets the token as `oauth2:<token>` through the environment only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from gitlab.exceptions import GitlabError
from gitlab.v4.objects import ProjectIssue, ProjectMergeRequest, ProjectMergeRequestManager

from bot.core.config import Settings
from bot.core.errors import NotFound, UpstreamError, UserError
from bot.forges.clients import gitlab_client, gitlab_policy
from bot.forges.forge import (
    Conversation,
    ForgeUser,
    Kind,
    Remark,
    ReplyTarget,
    mapping,
    text_or_none,
    whole,
)
from bot.forges.gitlab_review import GitLabReviewer
from bot.forges.provider import MergeRequest, Repository
from bot.git.runner import Credentials

T = TypeVar("T")

DEVELOPER = 30  # GitLab's access level for Developer


def _user(data: Mapping[str, object]) -> ForgeUser:
    return ForgeUser(
        id=str(data.get("id", "")),
        username=str(data.get("username", "")),
        name=str(data.get("name") or data.get("username", "")),
        email=text_or_none(data.get("email")),
        bot=bool(data.get("bot", False)),
    )


class GitLabProvider(GitLabReviewer):
    name = "gitlab"

    def __init__(self, settings: Settings) -> None:
        if not settings.gitlab_url:
            raise UserError("GitLab is not set up on this Repobox (GITLAB_URL is unset).")
        self.token = settings.gitlab_token
        self.client = gitlab_client(settings, self.token)
        self.policy = gitlab_policy(settings)
        self._me: ForgeUser | None = None

    def _call(self, what: str, action: Callable[[], T], missing: str | None = None) -> T:
        """One API call with retries; a refusal becomes `UpstreamError` (404: `NotFound`)."""
        try:
            return self.policy.call(what, action)
        except GitlabError as error:
            if missing is not None and error.response_code in (403, 404):
                raise NotFound(missing) from None
            raise UpstreamError(
                f"GitLab refused to {what} ({error.response_code}: {error.error_message})."
            ) from None

    def _noteable(
        self, project: str, kind: Kind, number: int
    ) -> ProjectIssue | ProjectMergeRequest:
        lazy_project = self.client.projects.get(project, lazy=True)
        manager = lazy_project.issues if kind == "issue" else lazy_project.mergerequests
        return manager.get(number, lazy=True)

    # -- Provider ---------------------------------------------------------------------
    def resolve(self, project: str) -> Repository:
        found = self._call(
            "look up the project",
            lambda: self.client.projects.get(project),
            missing=f"GitLab has no project `{project}` that I can see.",
        )
        return Repository(
            "gitlab",
            str(found.path_with_namespace),
            str(found.http_url_to_repo),
            str(found.default_branch) if found.default_branch else None,
            str(found.web_url),
            int(found.id),
            public=found.attributes.get("visibility") == "public",
        )

    def credentials(self, project: str | None = None) -> Credentials | None:
        return Credentials("oauth2", self.token) if self.token else None

    def open_or_update_merge_request(
        self,
        repo: Repository,
        *,
        branch: str,
        base: str,
        title: str,
        description: str,
        draft: bool = False,
    ) -> MergeRequest | None:
        """Update the open MR of `branch` (only its description, and only if we opened it)."""
        manager = self.client.projects.get(repo.project, lazy=True).mergerequests
        existing = self._open_for(manager, branch)
        if existing is not None:
            if existing.author.get("id") == int(self.identity().id):
                self._call(
                    "update the merge request",
                    lambda: manager.update(existing.iid, {"description": description}),
                )
            return MergeRequest(str(existing.web_url), int(existing.iid), created=False)
        if branch == base:
            return None  # a merge request's own branch: pushing was the whole job
        data = {
            "source_branch": branch,
            "target_branch": base,
            "title": f"Draft: {title}" if draft else title,  # GitLab's drafts: by title
            "description": description,
        }
        try:
            created = self.policy.call("open the merge request", lambda: manager.create(data))
        except GitlabError as error:
            again = self._open_for(manager, branch) if error.response_code == 409 else None
            if again is None:
                raise UpstreamError(
                    f"GitLab refused to open the merge request "
                    f"({error.response_code}: {error.error_message})."
                ) from None
            return MergeRequest(str(again.web_url), int(again.iid), created=False)
        return MergeRequest(str(created.web_url), int(created.iid), created=True)

    def _open_for(
        self, manager: ProjectMergeRequestManager, branch: str
    ) -> ProjectMergeRequest | None:
        found = self._call(
            "look for an open merge request",
            lambda: manager.list(state="opened", source_branch=branch, get_all=True),
        )
        return next(iter(found), None)

    # -- Forge ------------------------------------------------------------------------
    def identity(self) -> ForgeUser:
        if self._me is None:
            data = self._call("find out who I am", lambda: self.client.http_get("/user"))
            assert isinstance(data, dict)
            self._me = _user(data)
        return self._me

    def is_bot(self, user: ForgeUser) -> bool:
        if user.bot:
            return True
        found = self._call("look up a user", lambda: self.client.users.get(int(user.id)))
        return bool(getattr(found, "bot", False))

    def may_drive(self, project: str, user: ForgeUser) -> bool:
        members = self.client.projects.get(project, lazy=True).members_all
        try:
            member = self._call(
                "check access", lambda: members.get(int(user.id)), missing="not a member"
            )
        except NotFound:
            return False
        return int(member.access_level) >= DEVELOPER

    def conversation(self, project: str, kind: Kind, number: int) -> Conversation:
        lazy_project = self.client.projects.get(project, lazy=True)
        manager = lazy_project.issues if kind == "issue" else lazy_project.mergerequests
        what = "issue" if kind == "issue" else "merge request"
        found = self._call(
            f"read the {what}",
            lambda: manager.get(number),
            missing=f"GitLab has no {what} {number} in `{project}`.",
        )
        data = found.attributes
        return Conversation(
            kind=kind,
            number=int(data["iid"]),
            title=str(data.get("title") or ""),
            body=str(data.get("description") or ""),
            url=str(data.get("web_url") or ""),
            source_branch=data.get("source_branch"),
            target_branch=data.get("target_branch"),
            from_fork=kind == "merge_request"
            and data.get("source_project_id") != data.get("target_project_id"),
            author=(data.get("author") or {}).get("username"),
        )

    def remarks(self, project: str, kind: Kind, number: int) -> list[Remark]:
        notes = self._noteable(project, kind, number).notes
        found = self._call(
            "read the comments",
            lambda: notes.list(get_all=True, sort="asc", order_by="created_at"),
        )
        return [_remark(note.attributes) for note in found]

    def thread_remarks(self, target: ReplyTarget) -> list[Remark]:
        discussion = target.discussion_id
        if discussion is None:
            return []
        discussions = self._noteable(target.project, target.kind, target.number).discussions
        found = self._call("read the discussion", lambda: discussions.get(discussion))
        return [_remark(note) for note in found.attributes.get("notes", [])]

    def post(self, target: ReplyTarget, body: str) -> int:
        noteable = self._noteable(target.project, target.kind, target.number)
        notes = (
            noteable.notes
            if target.discussion_id is None
            else noteable.discussions.get(target.discussion_id, lazy=True).notes
        )
        note = self._call("write a comment", lambda: notes.create({"body": body}))
        return int(note.id)

    def edit(self, target: ReplyTarget, comment_id: int, body: str) -> None:
        notes = self._noteable(target.project, target.kind, target.number).notes
        self._call("edit my comment", lambda: notes.update(comment_id, {"body": body}))

    def react(self, target: ReplyTarget, comment_id: int, emoji: str) -> None:
        notes = self._noteable(target.project, target.kind, target.number).notes
        awards = notes.get(comment_id, lazy=True).awardemojis
        try:
            self.policy.call("react", lambda: awards.create({"name": emoji}))
        except GitlabError as error:
            if "already been taken" not in str(error.error_message):
                raise UpstreamError(
                    f"GitLab refused my reaction ({error.response_code})."
                ) from None


def _remark(data: Mapping[str, object]) -> Remark:
    return Remark(
        id=whole(data["id"]),
        author=_user(mapping(data.get("author") or {})),
        body=str(data.get("body") or ""),
        system=bool(data.get("system", False)),
    )


def build(settings: Settings) -> GitLabProvider:
    return GitLabProvider(settings)
