"""The `local` provider: a path or a plain remote URL (held to `bot.commands.repo_spec`'s allow-list
before it gets here); shipping only pushes."""

from __future__ import annotations

from pathlib import Path

from bot.core.config import Settings
from bot.core.errors import GitError, NotFound
from bot.core.redaction import redact
from bot.forges.provider import MergeRequest, Repository
from bot.git.reasons import next_step
from bot.git.runner import Credentials, GitFailure, git


class LocalProvider:
    name = "local"

    def resolve(self, project: str) -> Repository:
        if "://" not in project and not project.startswith("git@"):
            path = Path(project)
            if not path.exists():
                raise NotFound(f"`{project}` does not exist.")
            project = str(path.resolve())
        try:
            listing = git(
                "ls-remote",
                "--symref",
                "--end-of-options",
                project,
                "HEAD",
                remote=project,
                timeout=120,
            )
        except GitError as error:  # git's own reason: "Could not resolve host: …"
            why = error.reason if isinstance(error, GitFailure) else str(error)
            raise NotFound(
                f"I could not read the git repository `{redact(project)}`: {why.rstrip('.')}.",
                hint=next_step(why),
            ) from None
        default = None
        for line in listing.splitlines():
            if line.startswith("ref: ") and line.endswith("\tHEAD"):
                default = line[5:].split("\t", 1)[0].removeprefix("refs/heads/")
        return Repository("local", project, project, default, None)

    def credentials(self, project: str | None = None) -> Credentials | None:
        return None

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
        return None


def build(settings: Settings) -> LocalProvider:
    del settings
    return LocalProvider()
