"""What the session service checks before it takes work: the repository is one this
surface may name and REPOBOX_ALLOWED_REPOS allows, and the machine that would do the work
has room for it. Each refusal is a `UserError` written for the person who asked.
"""

from __future__ import annotations

from redis.asyncio import Redis as AsyncRedis

from bot.commands import repo_spec
from bot.core import disk
from bot.core.config import Settings
from bot.core.errors import Forbidden
from bot.sessions.hosts import live_beat


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
