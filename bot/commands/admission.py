"""What the session service checks before it takes work: the prompt is not too long, the
repository is one this surface may name and REPOBOX_ALLOWED_REPOS allows, and the machine
that would do the work has room for it. Each refusal is a `UserError` written for the
person who asked.

The largest prompt, `PROMPT_LIMIT` characters, is checked where every surface passes:
`grammar.parse` (Slack, forge notes, the CLI) and the service's `start`, `submit` and
`compare` (the dashboard's form and anything that builds a `Command` itself), so a prompt
too long is refused before any session, prompt or job exists. Why 250,000: it holds a
200 KB paste with room to spare, and is about 60,000 tokens, a third of the model's
context, which leaves the rest for the files the agent reads; every path carries it (the
agent reads it on stdin, never in an argument capped at 128 KiB; the dashboard accepts a
1 MiB form). A GitLab note may be up to 1,000,000 characters, and is refused above it.
"""

from __future__ import annotations

from redis.asyncio import Redis as AsyncRedis

from bot.commands import repo_spec
from bot.core import disk
from bot.core.config import Settings
from bot.core.errors import Forbidden, UserError
from bot.sessions.hosts import live_beat

PROMPT_LIMIT = 250_000  # characters; see the module's docstring for why


def check_prompt_size(text: str) -> None:
    """Refuse a prompt longer than `PROMPT_LIMIT`, saying by how much."""
    if len(text) > PROMPT_LIMIT:
        raise UserError(
            f"That prompt is {len(text):,} characters long; Repobox takes at most "
            f"{PROMPT_LIMIT:,}.",
            hint="Shorten it, or put the long part in a file in the repository and ask me to "
            "read that file.",
        )


class Admission:
    def __init__(self, settings: Settings, redis: AsyncRedis) -> None:
        self.settings = settings
        self.redis = redis

    def check_spec(self, repo: str, reach: repo_spec.Reach) -> repo_spec.RepoSpec:
        """What `repo` names, if the surface (`reach`) and REPOBOX_ALLOWED_REPOS allow it."""
        spec = repo_spec.parse(repo, self.settings, reach)
        self.check_repo_allowed(spec.provider, spec.project)
        return spec

    def check_repo_allowed(self, provider_name: str, project: str) -> None:
        allowed = self.settings.allowed_repos
        if allowed and project not in allowed and f"{provider_name}:{project}" not in allowed:
            raise Forbidden(f"Repobox is not allowed to work on `{project}` here.")

    async def check_disk(self, host: str | None) -> None:
        """Refuse work below REPOBOX_MIN_FREE_MB: on the session's host as its heartbeat
        reports it, or on this machine's data dir when no host holds the session yet."""
        minimum = self.settings.min_free_mb
        beat = await live_beat(self.redis, host) if host else None
        if beat is not None:
            if beat.free_mb < minimum:
                raise disk.refusal(
                    beat.free_mb, minimum, f"the machine holding this session ({host})"
                )
            return
        disk.check(self.settings.data_dir, minimum)
