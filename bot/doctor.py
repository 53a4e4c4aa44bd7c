"""Health of every integration, in plain words: `python app.py doctor` and the admin page.

Each check is a small function returning a `Check`; none raises, so one broken
integration never hides the others. A check whose integration is not configured says
so and counts as fine (Repobox runs with none of them). The details name accounts,
scopes and counts, never a token.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from slack_sdk.errors import SlackApiError

from bot.agents.command import check_agent_command
from bot.agents.command_line import program_of
from bot.core import keys
from bot.core.config import Settings
from bot.core.disk import free_mb
from bot.core.errors import ConfigError, RepoboxError
from bot.core.health import RedisHealth, probe
from bot.core.models import DEMO, DEMO_LABEL
from bot.identity.tokens import TokenInfo, inspect_github, inspect_gitlab
from bot.security.credentials import KEY_FILE, keyring
from bot.security.sandbox import probe as sandbox_probe
from bot.surfaces.slack.clients import web_client

TIMEOUT = 10.0
# What the bot's own token needs: push and open merge/pull requests.
NEEDED_SCOPES = {"gitlab": ({"api"},), "github": ({"repo"}, {"public_repo"})}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    configured: bool = True

    @property
    def line(self) -> str:
        mark = "ok  " if self.ok and self.configured else ("--  " if self.ok else "FAIL")
        return f"{mark} {self.name}: {self.detail}"


def _skipped(name: str, what: str) -> Check:
    return Check(name, True, f"not configured ({what})", configured=False)


def check_secret_key(settings: Settings) -> Check:
    """The key that seals credentials and cookies: where it comes from, which old ones."""
    try:
        ring = keyring(settings)
    except ConfigError as error:
        return Check("Secret key", False, str(error))
    where = "REPOBOX_SECRET_KEY" if settings.secret_key else f"{settings.data_dir}/{KEY_FILE}"
    old = f", {len(ring.old)} old key(s) still decrypt" if ring.old else ""
    return Check("Secret key", True, f"key {ring.current_id} from {where}{old}")


def check_slack(settings: Settings) -> Check:
    if not settings.slack_bot_token:
        return _skipped("Slack", "SLACK_BOT_TOKEN")
    client = web_client(settings, timeout=int(TIMEOUT))
    try:
        who = client.auth_test()
    except SlackApiError as error:
        return Check("Slack", False, f"Slack refused the bot token ({error.response['error']})")
    except OSError as error:
        return Check("Slack", False, f"Slack could not be reached ({type(error).__name__})")
    mode = "Socket Mode" if settings.slack_app_token else "HTTP events"
    return Check(
        "Slack",
        True,
        f"workspace {who.get('team')} ({who.get('team_id')}), bot @{who.get('user')} "
        f"({who.get('user_id')}), {mode}",
    )


def _forge(name: str, key: str, inspect: Callable[[], TokenInfo]) -> Check:
    try:
        info = inspect()
    except (RepoboxError, OSError) as error:
        return Check(name, False, str(error))
    left = "" if info.rate_limit_remaining is None else f", {info.rate_limit_remaining} calls left"
    detail = f"token of @{info.login}, scopes {info.scopes_text}{left}"
    if info.scopes is not None and not any(s <= set(info.scopes) for s in NEEDED_SCOPES[key]):
        needed = " or ".join(", ".join(sorted(s)) for s in NEEDED_SCOPES[key])
        return Check(name, False, f"{detail}; it needs {needed} to push and open requests")
    return Check(name, True, detail)


def check_gitlab(settings: Settings) -> Check:
    if not (settings.gitlab_url and settings.gitlab_token):
        return _skipped("GitLab", "GITLAB_URL and GITLAB_TOKEN")
    token = settings.gitlab_token
    return _forge("GitLab", "gitlab", lambda: inspect_gitlab(settings, token))


def check_github(settings: Settings) -> Check:
    if not settings.github_token:
        return _skipped("GitHub", "GITHUB_TOKEN")
    token = settings.github_token
    return _forge("GitHub", "github", lambda: inspect_github(settings, token))


def check_anthropic(settings: Settings) -> Check:
    """A token count: free, and it needs a valid key and a known model."""
    if not settings.anthropic_api_key:
        if settings.agent == "anthropic":
            return Check(
                "Anthropic", False, "ANTHROPIC_API_KEY is not set (REPOBOX_AGENT=anthropic)"
            )
        return _skipped("Anthropic", "ANTHROPIC_API_KEY")
    import anthropic

    client = anthropic.Anthropic(
        api_key=settings.anthropic_api_key,
        base_url=settings.anthropic_base_url,
        max_retries=1,
        timeout=TIMEOUT,
    )
    try:
        client.messages.count_tokens(
            model=settings.model, messages=[{"role": "user", "content": "ping"}]
        )
    except anthropic.AuthenticationError:
        return Check("Anthropic", False, "the API key is not accepted")
    except anthropic.APIStatusError as error:
        return Check("Anthropic", False, f"the API answered HTTP {error.status_code}")
    except anthropic.APIConnectionError:
        return Check("Anthropic", False, "the API could not be reached")
    return Check("Anthropic", True, f"key accepted, model {settings.model}")


def check_agent(settings: Settings) -> Check:
    if settings.agent == DEMO:
        return Check("Agent", True, f"{DEMO_LABEL}: fixed rules on the prompt's words, no account")
    if settings.agent != "command" or not settings.agent_command:
        return Check("Agent", True, f"built-in {settings.agent} agent, model {settings.model}")
    program = program_of(settings.agent_command)
    try:
        check_agent_command(settings)
    except ConfigError as error:
        return Check("Agent", False, str(error))
    if settings.sandbox == "off":
        where = "sandbox off (REPOBOX_SANDBOX=off)"
    else:
        status = sandbox_probe()
        where = "visible in the sandbox" if status.usable else f"no sandbox: {status.detail}"
    return Check("Agent", True, f"`{program}` found at {shutil.which(program)}, {where}")


def check_redis(redis: Redis | None, missing: str = "not reachable") -> Check:
    """A write and a read back: PING alone misses a Redis that refuses writes."""
    if redis is None:
        return Check("Redis", False, missing)
    try:
        health = probe(redis)
        if health is RedisHealth.OK and redis.exists(keys.health_probe()) != 1:
            return Check("Redis", False, "a value written could not be read back")
    except RedisError as error:
        return Check("Redis", False, f"error: {type(error).__name__}")
    if health is not RedisHealth.OK:
        return Check("Redis", False, health.message)
    return Check("Redis", True, "reads and writes work")


def check_disk(settings: Settings) -> Check:
    free = free_mb(settings.data_dir)
    detail = (
        f"{free:,.0f} MB free on {settings.data_dir} (keeps at least {settings.min_free_mb:,.0f})"
    )
    return Check("Disk", free >= settings.min_free_mb, detail)


def run_all(
    settings: Settings, redis: Redis | None, *, redis_missing: str = "not reachable"
) -> list[Check]:
    """Every check, in the order people read them."""
    return [
        check_secret_key(settings),
        check_slack(settings),
        check_gitlab(settings),
        check_github(settings),
        check_anthropic(settings),
        check_agent(settings),
        check_redis(redis, redis_missing),
        check_disk(settings),
    ]
