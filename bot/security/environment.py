"""The environment an agent and the commands it runs get: ours, minus every secret."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from bot.config import Settings

_SECRET_HINTS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "PRIVATE_KEY", "CREDENTIAL")


def looks_secret(name: str) -> bool:
    upper = name.upper()
    return any(hint in upper for hint in _SECRET_HINTS)


def agent_environment(
    settings: Settings,
    *,
    base: Mapping[str, str] | None = None,
    keep: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`base` (default: our own environment) without Repobox's secrets or secret-looking names.

    `keep` names variables an external agent needs for itself (its own model API key); they
    are passed only to that agent process, never to the built-in `run` tool.
    """
    source = os.environ if base is None else base
    allowed = set(keep)
    secret_values = set(settings.secret_values())
    env: dict[str, str] = {}
    for name, value in source.items():
        if name in allowed:
            env[name] = value
            continue
        if (
            name in settings.secret_env_names
            or looks_secret(name)
            or name.startswith(("GIT_", "RQ_"))
        ):
            continue
        if value and value in secret_values:
            continue
        env[name] = value
    env.update(extra or {})
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    return env
