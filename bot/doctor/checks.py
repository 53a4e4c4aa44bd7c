"""The checks themselves: each a small function returning a `Check`; none raises, so one
broken integration never hides the others.

A check whose integration is not configured says so and counts as fine (Repobox runs with
none of them). Every failure says why in words and what to do next (`reasons`), and the
details name accounts, scopes and counts, never a token.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from github import GithubException
from jwt import PyJWTError  # PyGithub's own JWT library, which signs the App's tokens
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from slack_sdk.errors import SlackApiError

from bot.core import keys
from bot.core.config import Settings
from bot.core.disk import free_mb
from bot.core.errors import ConfigError, RepoboxError
from bot.core.health import RedisHealth, probe
from bot.core.redisio import maybe_str, str_fields
from bot.doctor.agent import check_agent, check_anthropic, check_network, check_sandbox
from bot.doctor.check import Check, Level, fail, fine, skipped
from bot.doctor.reasons import unreachable
from bot.doctor.webhooks import check_webhooks
from bot.forges import github_app
from bot.forges.clients import github_message
from bot.identity import broken
from bot.identity.tokens import TokenInfo, inspect_github, inspect_gitlab
from bot.security.credentials import KEY_FILE, keyring
from bot.surfaces.slack.clients import web_client

TIMEOUT = 10.0
# What the bot's own token needs: push and open merge/pull requests.
NEEDED_SCOPES = {"gitlab": ({"api"},), "github": ({"repo"}, {"public_repo"})}


def check_secret_key(settings: Settings) -> Check:
    """The key that seals credentials and cookies: where it comes from, which old ones."""
    try:
        ring = keyring(settings)
    except ConfigError as error:
        return fail("Secret key", str(error), "Set REPOBOX_SECRET_KEY to base64 of 32 bytes.")
    where = "REPOBOX_SECRET_KEY" if settings.secret_key else f"{settings.data_dir}/{KEY_FILE}"
    old = f", {len(ring.old)} old key(s) still decrypt" if ring.old else ""
    return fine("Secret key", f"key {ring.current_id} from {where}{old}")


def check_slack(settings: Settings) -> Check:
    if not settings.slack_bot_token:
        return skipped("Slack", "SLACK_BOT_TOKEN")
    client = web_client(settings, timeout=int(TIMEOUT))
    try:
        who = client.auth_test()
    except SlackApiError as error:
        return fail(
            "Slack",
            f"Slack refused the bot token ({error.response['error']})",
            "Copy the Bot User OAuth Token (xoxb-…) from the Slack app's OAuth page into "
            "SLACK_BOT_TOKEN.",
        )
    except OSError as error:
        detail, step = unreachable("Slack", error, settings.slack_api_url, "SLACK_API_URL")
        return fail("Slack", detail, step)
    mode = "Socket Mode" if settings.slack_app_token else "HTTP events"
    return fine(
        "Slack",
        f"workspace {who.get('team')} ({who.get('team_id')}), bot @{who.get('user')} "
        f"({who.get('user_id')}), {mode}",
    )


def _forge(name: str, key: str, url: str, setting: str, inspect: Callable[[], TokenInfo]) -> Check:
    token = f"{name.upper()}_TOKEN"
    try:
        info = inspect()
    except OSError as error:
        detail, step = unreachable(name, error, url, setting)
        return fail(name, detail, step)
    except RepoboxError as error:
        return fail(name, str(error), f"Check {token}: is it valid, and not expired?")
    left = "" if info.rate_limit_remaining is None else f", {info.rate_limit_remaining} calls left"
    detail = f"token of @{info.login}, scopes {info.scopes_text}{left}"
    if info.scopes is not None and not any(s <= set(info.scopes) for s in NEEDED_SCOPES[key]):
        needed = " or ".join(", ".join(sorted(s)) for s in NEEDED_SCOPES[key])
        return fail(
            name,
            f"{detail}; it needs {needed} to push and open requests",
            f"Make a token with {needed} and put it in {token}.",
        )
    return fine(name, detail)


def check_gitlab(settings: Settings) -> Check:
    if not (settings.gitlab_url and settings.gitlab_token):
        return skipped("GitLab", "GITLAB_URL and GITLAB_TOKEN")
    token, url = settings.gitlab_token, settings.gitlab_url
    return _forge("GitLab", "gitlab", url, "GITLAB_URL", lambda: inspect_gitlab(settings, token))


def check_github(settings: Settings) -> Check:
    if github_app.enabled(settings):
        return check_github_app(settings)
    if not settings.github_token:
        return skipped("GitHub", "GITHUB_TOKEN or a GitHub App")
    token, url = settings.github_token, settings.github_api_url
    return _forge(
        "GitHub", "github", url, "GITHUB_API_URL", lambda: inspect_github(settings, token)
    )


def check_github_app(settings: Settings) -> Check:
    """The App: its key signs a JWT, GitHub takes it (`GET /app`), and where it is installed
    (`GET /app/installations`)."""
    name, url = "GitHub", settings.github_api_url
    redo = "Check REPOBOX_GITHUB_APP_ID and the App's private key (docs/github-app.md)."
    try:
        client = github_app.integration(settings, TIMEOUT)
        client.auth.create_jwt()
    except (ValueError, TypeError, ConfigError, PyJWTError):
        return fail(name, "the App's private key cannot sign a JWT (not a PEM RSA key)", redo)
    try:
        app = client.get_app()
        found = [(i.account.login, i.repository_selection) for i in client.get_installations()]
    except GithubException as error:
        said = f"HTTP {error.status}: {github_message(error)}"
        return fail(name, f"GitHub refused the App's JWT ({said})", redo)
    except OSError as error:
        detail, step = unreachable(name, error, url, "GITHUB_API_URL")
        return fail(name, detail, step)
    both = "; GITHUB_TOKEN is set too, and unused for the bot" if settings.github_token else ""
    about = f"App {app.slug} (id {settings.github_app_id}), acting as {app.slug}[bot]"
    if not found:
        return Check(
            name,
            Level.WARN,
            f"{about}, installed nowhere yet{both}",
            f"Install it on an account or organization: {app.html_url}/installations/new",
        )
    where = ", ".join(f"{login} ({selection} repositories)" for login, selection in found)
    return fine(name, f"{about}, installed on {where}{both}")


def check_redis(redis: Redis | None, missing: str = "not reachable") -> Check:
    """A write and a read back: PING alone misses a Redis that refuses writes."""
    start = "Start Repobox with `./dev run`, or set REDIS_URL to a running Redis or Valkey."
    if redis is None:
        return fail("Redis", missing, start)
    try:
        health = probe(redis)
        if health is RedisHealth.OK and redis.exists(keys.health_probe()) != 1:
            return fail("Redis", "a value written could not be read back", "Check the server.")
    except (RedisConnectionError, RedisTimeoutError) as error:
        return fail("Redis", f"Redis could not be reached: {_said(error)}", start)
    except RedisError as error:
        return fail("Redis", f"Redis answered with an error: {_said(error)}", "Check the server.")
    if health is not RedisHealth.OK:
        return fail("Redis", health.message, "Free disk space, or raise its maxmemory.")
    return fine("Redis", "reads and writes work")


def _said(error: RedisError) -> str:
    return str(error).split("\n", 1)[0].rstrip(".") or "no answer"


def check_disk(settings: Settings) -> Check:
    free = free_mb(settings.data_dir)
    detail = (
        f"{free:,.0f} MB free on {settings.data_dir} (keeps at least {settings.min_free_mb:,.0f})"
    )
    if free >= settings.min_free_mb:
        return fine("Disk", detail)
    return fail("Disk", detail, "Free disk space there, or lower REPOBOX_MIN_FREE_MB.")


def check_links(redis: Redis | None) -> Check:
    """The people's linked accounts found broken when a write used them."""
    if redis is None:
        return skipped("Linked accounts", "Redis")
    try:
        raw = str_fields(redis.hgetall(keys.broken_links()))
        found = broken.listed(raw)
        names = {link.person_id: _person_name(redis, link.person_id) for link in found}
    except RedisError as error:
        return fail("Linked accounts", f"could not be read: {_said(error)}", "Check Redis.")
    if not found:
        return fine("Linked accounts", "none found broken")
    listed = "; ".join(f"{names[b.person_id]} ({b.title}: {b.why})" for b in found)
    return Check(
        "Linked accounts",
        Level.WARN,
        f"{len(found)} broken, acting as the bot for them: {listed}",
        "Ask them to link that host again in Settings (they were told when they asked).",
    )


def _person_name(redis: Redis, person_id: str) -> str:
    raw = maybe_str(redis.hget(keys.person(person_id), "json"))
    try:
        return str(json.loads(raw)["display_name"]) if raw else person_id
    except (ValueError, KeyError, TypeError):
        return person_id


def run_all(
    settings: Settings, redis: Redis | None, *, redis_missing: str = "not reachable"
) -> list[Check]:
    """Every check, in the order people read them."""
    gitlab, github = check_gitlab(settings), check_github(settings)
    working = {c.name for c in (gitlab, github) if c.ok and c.configured}
    return [
        check_secret_key(settings),
        check_slack(settings),
        gitlab,
        github,
        *check_webhooks(settings, redis, working),  # subscribed to what Repobox listens for
        check_anthropic(settings),
        check_agent(settings),
        check_sandbox(settings),
        check_network(settings),
        check_redis(redis, redis_missing),
        check_disk(settings),
        *([check_links(redis)] if redis is not None else []),  # they live in Redis
    ]
