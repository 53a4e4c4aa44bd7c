"""The GitHub surface's outbound side: progress comments on issues and merge requests."""

from __future__ import annotations

from redis import Redis

from bot.config import Settings
from bot.surfaces.forge_comments import ForgeSink


def build_sink(settings: Settings, redis: Redis) -> ForgeSink:
    return ForgeSink(settings, redis, "github")
