"""The environment of every process Repobox starts: an allow-list, never a copy of ours.

Our own environment holds every token (Slack, GitLab, GitHub, the model's key) and
whatever else the operator's shell exported, such as a database URL. A deny-list of
secret-looking names misses `MY_DB_URL=postgres://u:pw@…`; an allow-list cannot. A
process gets the names it needs to behave (PATH, HOME, locale, time zone), what its call
needs on top (a proxy for git over https, a command agent's own API key), and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from bot.core.config import Settings

ALLOWED = frozenset(
    {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TERM", "USER", "LOGNAME", "SHELL", "TMPDIR"}
)
ALLOWED_PREFIXES = ("LC_",)
NETWORK = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


def process_environment(
    *, base: Mapping[str, str] | None = None, also: Iterable[str] = ()
) -> dict[str, str]:
    """The allow-listed names of `base` (default: our own environment), plus `also`."""
    source = os.environ if base is None else base
    wanted = ALLOWED | frozenset(also)
    return {
        name: value
        for name, value in source.items()
        if name in wanted or name.startswith(ALLOWED_PREFIXES)
    }


def agent_environment(
    settings: Settings,
    *,
    base: Mapping[str, str] | None = None,
    keep: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What an agent and the commands it runs see: the allow-list, the proxies when the agent
    may use the network, and the names the operator added (REPOBOX_AGENT_ENV), minus any of
    Repobox's own secrets, by name or by value.

    `keep` names variables an external agent needs for itself (its own model API key); they
    are passed only to that agent process, never to the built-in `run` tool.
    """
    source = os.environ if base is None else base
    also = set(settings.agent_env) | (set(NETWORK) if settings.agent_network else set())
    env = process_environment(base=source, also=also)
    secret_values = set(settings.secret_values())
    for name in list(env):
        if name in settings.secret_env_names or (env[name] and env[name] in secret_values):
            del env[name]
    env.update({name: source[name] for name in keep if name in source})
    env.update(extra or {})
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    return env
