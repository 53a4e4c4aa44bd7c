"""The `github` provider: PyGithub against `GITHUB_API_URL` with `GITHUB_TOKEN`, or as a
GitHub App (`bot.forges.github_app`: an installation token per repository owner; the App
wins when both are set, and a person's own token, from `as_person`, drops the App).

PyGithub's own retries and write delays are off (`bot.forges.clients`): the forge retry
policy retries, and progress comments are paced per comment by the surface. Objects are
lazy, so a call costs one request. Git gets the token as `x-access-token:<token>` through
the environment only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from github import BadCredentialsException, Github, GithubException
from github.Issue import Issue
from github.PullRequest import PullRequest
from github.Repository import Repository as GithubRepository

from bot.core.config import Settings
from bot.core.errors import NotFound, UpstreamError, UserError
from bot.forges import github_app
from bot.forges.clients import github_client, github_message, github_policy
from bot.forges.forge import Conversation, ForgeUser, Kind, Remark, ReplyTarget
from bot.forges.github_review import GitHubReviewer
from bot.forges.provider import MergeRequest, Repository
from bot.git.runner import Credentials

T = TypeVar("T")

WRITE_PERMISSIONS = frozenset({"admin", "write"})  # maintain reads as "write"


class _Account(Protocol):
    """A user as PyGithub hands it out: named, authenticated, or an organization."""

    @property
    def login(self) -> str: ...
    @property
    def id(self) -> int: ...
    @property
    def type(self) -> str: ...


def _user(data: _Account) -> ForgeUser:
    login = str(data.login)
    return ForgeUser(
        id=str(data.id),
        username=login,
        name=login,
        bot=str(data.type) == "Bot" or login.endswith("[bot]"),
    )


class GitHubProvider(GitHubReviewer):
    name = "github"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = github_app.enabled(settings)
        if not (self.app or settings.github_token):
            raise UserError(
                "GitHub is not set up on this Repobox (neither GITHUB_TOKEN nor a GitHub App)."
            )
        self.token = settings.github_token
        token_client = None if self.app else github_client(settings, settings.github_token or "-")
        self.client: Github | None = token_client
        self.policy = github_policy(settings)
        self._me: ForgeUser | None = None
        self._installs: dict[str, tuple[Github, github_app.InstallationAuth]] = {}
        self._project: str | None = None  # the last repository asked about (for `credentials`)

    def _client(self, project: str) -> Github:
        """The client for `project`: the token's, or its owner's installation's."""
        self._project = project
        if self.client is not None:
            return self.client
        owner = project.split("/", 1)[0].lower()
        if owner not in self._installs:
            auth = github_app.InstallationAuth(
                self.settings, github_app.installation_for(self.settings, project)
            )
            self._installs[owner] = (github_client(self.settings, auth), auth)
        return self._installs[owner][0]

    def _call(self, what: str, action: Callable[[], T], missing: str | None = None) -> T:
        """One API call with retries; a refusal becomes `UpstreamError` (404: `NotFound`).
        An installation token GitHub refuses (401) is minted again, once."""
        try:
            try:
                return self.policy.call(what, action)
            except BadCredentialsException:
                if not self._installs:
                    raise
                for _client, auth in self._installs.values():
                    auth.forget()
                return self.policy.call(what, action)
        except GithubException as error:
            if missing is not None and error.status in (403, 404):
                raise NotFound(missing) from None
            raise UpstreamError(
                f"GitHub refused to {what} ({error.status}: {github_message(error)})."
            ) from None

    def _repo(self, project: str) -> GithubRepository:
        return self._client(project).get_repo(project)  # lazy: no request yet

    def _issue(self, target: ReplyTarget) -> Issue:
        return self._repo(target.project).get_issue(target.number)

    def _pull(self, target: ReplyTarget) -> PullRequest:
        return self._repo(target.project).get_pull(target.number)

    # -- Provider ---------------------------------------------------------------------
    def resolve(self, project: str) -> Repository:
        repo = self._repo(project)

        def read() -> Repository:
            default = repo.default_branch
            return Repository(
                "github",
                repo.full_name,
                repo.clone_url,
                default,
                repo.html_url,
                repo.id,
                public=not repo.private,
            )

        try:
            return self._call(
                "look up the repository", read, missing=f"GitHub has no repository `{project}`."
            )
        except NotFound:
            if self.app:  # not given that repository, or removed since: say where to install
                github_app.installation_for(self.settings, project, fresh=True)
            raise

    def credentials(self, project: str | None = None) -> Credentials | None:
        """For git: the token, or an installation token of `project`'s owner (by default
        the last repository this provider was asked about), as `x-access-token`."""
        if not self.app:
            return Credentials("x-access-token", self.token or "")
        project = project or self._project
        if project is None:
            raise UserError("Which repository? A GitHub App's token is per installation.")
        self._client(project)
        _client, auth = self._installs[project.split("/", 1)[0].lower()]
        return Credentials("x-access-token", auth.token)

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
        """Update the open PR of `branch` (only its description, and only if we opened it)."""
        github_repo = self._repo(repo.project)
        existing = self._open_for(github_repo, repo.project, branch)
        if existing is not None:
            if existing.user.login == self.identity().username:
                self._call("update the pull request", lambda: existing.edit(body=description))
            return MergeRequest(existing.html_url, existing.number, created=False)
        if branch == base:
            return None  # a pull request's own branch: pushing was the whole job
        try:
            created = self.policy.call(
                "open the pull request",
                lambda: github_repo.create_pull(
                    base=base, head=branch, title=title, body=description, draft=draft
                ),
            )
        except GithubException as error:
            again = self._open_for(github_repo, repo.project, branch)
            if error.status != 422 or again is None:
                said = f"{error.status}: {github_message(error)}"
                raise UpstreamError(f"GitHub refused to open the pull request ({said}).") from None
            return MergeRequest(again.html_url, again.number, created=False)
        return MergeRequest(created.html_url, created.number, created=True)

    def _open_for(self, repo: GithubRepository, project: str, branch: str) -> PullRequest | None:
        owner = project.split("/", 1)[0]
        pulls = self._call(
            "look for an open pull request",
            lambda: list(repo.get_pulls(state="open", head=f"{owner}:{branch}")),
        )
        return pulls[0] if pulls else None

    # -- Forge ------------------------------------------------------------------------
    def identity(self) -> ForgeUser:
        if self._me is None and self.app:  # an installation cannot ask `GET /user`
            app = github_app.app_info(self.settings)
            self._me = ForgeUser(
                id=f"app:{self.settings.github_app_id}",
                username=app.bot_login,
                name=app.name,
                bot=True,
            )
        if self._me is None:
            assert self.client is not None  # not an App: the token's own user
            me = self.client.get_user()
            self._me = self._call("find out who I am", lambda: _user(me))
        return self._me

    def is_bot(self, user: ForgeUser) -> bool:
        return user.bot or user.username.endswith("[bot]")

    def may_drive(self, project: str, user: ForgeUser) -> bool:
        repo = self._repo(project)
        try:
            permission = self._call(
                "check permissions",
                lambda: repo.get_collaborator_permission(user.username),
                missing="no such collaborator",
            )
        except NotFound:
            return False
        return permission in WRITE_PERMISSIONS

    def conversation(self, project: str, kind: Kind, number: int) -> Conversation:
        target = ReplyTarget(project, kind, number)
        what = "issue" if kind == "issue" else "pull request"
        missing = f"GitHub has no {what} {number} in `{project}`."
        if kind == "issue":
            issue = self._issue(target)
            return self._call(
                f"read the {what}",
                lambda: Conversation(
                    kind,
                    issue.number,
                    issue.title,
                    issue.body or "",
                    issue.html_url,
                    author=issue.user.login,
                ),
                missing=missing,
            )
        pull = self._pull(target)

        def read() -> Conversation:
            head_repo = pull.head.repo
            return Conversation(
                kind,
                pull.number,
                pull.title,
                pull.body or "",
                pull.html_url,
                source_branch=pull.head.ref,
                target_branch=pull.base.ref,
                from_fork=head_repo is None or head_repo.full_name.lower() != project.lower(),
                author=pull.user.login,
            )

        return self._call(f"read the {what}", read, missing=missing)

    def remarks(self, project: str, kind: Kind, number: int) -> list[Remark]:
        issue = self._issue(ReplyTarget(project, kind, number))
        found = self._call("read the comments", lambda: list(issue.get_comments()))
        return [Remark(c.id, _user(c.user), c.body or "") for c in found]

    def thread_remarks(self, target: ReplyTarget) -> list[Remark]:
        root = target.review_comment_id
        if root is None:
            return []
        pull = self._pull(target)
        found = self._call("read the review thread", lambda: list(pull.get_review_comments()))
        in_thread = [c for c in found if root in (c.id, c.in_reply_to_id)]
        return [Remark(c.id, _user(c.user), c.body or "") for c in in_thread]

    def post(self, target: ReplyTarget, body: str) -> int:
        root = target.review_comment_id
        if root is not None:
            pull = self._pull(target)
            return self._call(
                "reply in the review thread",
                lambda: pull.create_review_comment_reply(root, body).id,
            )
        issue = self._issue(target)
        return self._call("write a comment", lambda: issue.create_comment(body).id)

    def edit(self, target: ReplyTarget, comment_id: int, body: str) -> None:
        if target.review_comment_id is not None:
            review_comment = self._pull(target).get_review_comment(comment_id)
            self._call("edit my comment", lambda: review_comment.edit(body))
            return
        comment = self._issue(target).get_comment(comment_id)
        self._call("edit my comment", lambda: comment.edit(body))

    def react(self, target: ReplyTarget, comment_id: int, emoji: str) -> None:
        if target.review_comment_id is not None:
            review_comment = self._pull(target).get_review_comment(comment_id)
            self._call("react", lambda: review_comment.create_reaction(emoji))
            return
        comment = self._issue(target).get_comment(comment_id)
        self._call("react", lambda: comment.create_reaction(emoji))


def build(settings: Settings) -> GitHubProvider:
    return GitHubProvider(settings)
