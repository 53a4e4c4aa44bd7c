"""`doctor` checks against the fake Slack, GitLab, GitHub and Anthropic, a real Valkey."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.doctor.check import Check, Level
from bot.doctor.checks import check_redis, check_slack, run_all
from bot.doctor.exchange import server_running
from tests.conftest import ROOT, env_for, wait_until
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.slack import FakeSlack
from tests.live_server import LiveServer

SLACK_TOKEN = "xoxb-doctor-bot-token"
ANTHROPIC_KEY = "sk-ant-doctor-key-0123456789"


@dataclass
class Hosts:
    slack: FakeSlack
    gitlab: FakeGitLab
    github: FakeGitHub
    anthropic: FakeAnthropic


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    with (
        FakeSlack(token=SLACK_TOKEN, team="Acme") as slack,
        FakeGitLab() as gitlab,
        FakeGitHub() as github,
        FakeAnthropic(api_key=ANTHROPIC_KEY) as anthropic,
    ):
        yield Hosts(slack, gitlab, github, anthropic)


def configured(settings: Settings, hosts: Hosts) -> Settings:
    return settings.with_changes(
        slack_bot_token=SLACK_TOKEN,
        slack_api_url=hosts.slack.api_url,
        gitlab_url=hosts.gitlab.url,
        gitlab_token=DEFAULT_TOKEN,
        github_api_url=hosts.github.url,
        github_token=hosts.github.token,
        anthropic_api_key=ANTHROPIC_KEY,
        anthropic_base_url=hosts.anthropic.url,
        min_free_mb=0,
    )


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def test_everything_fine_is_said_in_plain_words(
    settings: Settings, redis: Redis, hosts: Hosts
) -> None:
    checks = by_name(run_all(configured(settings, hosts), redis))
    assert all(check.ok and check.configured for check in checks.values()), checks
    assert checks["Secret key"].detail.startswith("key ")
    assert checks["Secret key"].detail.endswith(" from REPOBOX_SECRET_KEY")
    assert checks["Slack"].detail == "workspace Acme (T0001), bot @repobox (UBOT), HTTP events"
    assert checks["GitLab"].detail.startswith("token of @repobox, scopes api")
    assert checks["GitHub"].detail == "token of @repobox-bot, scopes repo, 4999 calls left"
    assert checks["Anthropic"].detail.startswith("key accepted, model ")
    assert checks["Agent"].detail.startswith("command `")
    assert checks["Sandbox"].level is Level.WARN  # the tests run with REPOBOX_SANDBOX=off
    assert checks["Sandbox"].detail.startswith("NO SANDBOX: off (REPOBOX_SANDBOX=off)")
    assert "REPOBOX_SANDBOX" in checks["Sandbox"].next_step
    assert checks["Network"].detail.startswith("allow-list NOT ENFORCED: it needs the sandbox")
    assert checks["Redis"].detail == "reads and writes work"
    assert "MB free on" in checks["Disk"].detail


def test_each_broken_integration_says_what_is_wrong(
    settings: Settings, redis: Redis, hosts: Hosts
) -> None:
    hosts.gitlab.token_scopes[DEFAULT_TOKEN] = ["read_api"]
    broken = configured(settings, hosts).with_changes(
        slack_bot_token="xoxb-not-the-right-token",
        github_token="ghp_revokedrevokedrevoked00",
        anthropic_api_key="sk-ant-wrong-key-000000000",
        agent_command="no-such-agent-command --flag",
        min_free_mb=10**12,
    )
    broken = broken.with_changes(secret_key="bm90LTMyLWJ5dGVz")
    checks = by_name(run_all(broken, None, redis_missing="Repobox is not running"))
    warnings = ["Sandbox", "Network"]  # with no sandbox, the allow-list is not enforced
    assert [name for name, check in checks.items() if check.ok] == warnings
    assert all(check.next_step for check in checks.values())  # each says what to do
    assert "REPOBOX_SECRET_KEY must be base64 of 32 bytes" in checks["Secret key"].detail
    assert "Slack refused the bot token (invalid_auth)" in checks["Slack"].detail
    assert checks["GitLab"].detail.endswith("it needs api to push and open requests")
    assert "GitHub does not accept this token (HTTP 401)" in checks["GitHub"].detail
    assert checks["Anthropic"].detail == "the API key is not accepted"
    assert "`no-such-agent-command` was not found on PATH" in checks["Agent"].detail
    assert checks["Redis"].detail == "Repobox is not running"
    text = "\n".join(check.line for check in checks.values())
    for secret in ("not-the-right", "revokedrevoked", "wrong-key"):
        assert secret not in text


def test_unconfigured_integrations_are_not_failures(settings: Settings, redis: Redis) -> None:
    checks = by_name(run_all(settings.with_changes(min_free_mb=0), redis))
    assert checks["Slack"].line == "--   Slack: not configured (SLACK_BOT_TOKEN)"
    assert not checks["GitHub"].configured and checks["GitHub"].ok
    assert all(check.ok for check in checks.values())
    assert checks["Agent"].detail.startswith("command `")


def test_a_redis_that_refuses_writes_is_caught(redis: Redis) -> None:
    redis.config_set("min-replicas-to-write", 1)
    try:
        check = check_redis(redis)
    finally:
        redis.config_set("min-replicas-to-write", 0)
    assert not check.ok and "refuses writes" in check.detail


def test_dev_doctor_with_no_server_checks_the_terminal_and_says_so(
    settings: Settings, hosts: Hosts
) -> None:
    env = env_for(
        settings,
        SLACK_BOT_TOKEN=SLACK_TOKEN,
        SLACK_API_URL=hosts.slack.api_url,
        GITHUB_API_URL=hosts.github.url,
        GITHUB_TOKEN=hosts.github.token,
        ANTHROPIC_API_KEY=ANTHROPIC_KEY,
        ANTHROPIC_BASE_URL=hosts.anthropic.url,
        REPOBOX_MIN_FREE_MB="0",
    )
    done = doctor(env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "no Repobox server is running; checking this terminal's settings instead"
    marks = [line.split(":")[0] for line in lines[1:-1] if not line.startswith(" ")]
    assert marks == [
        "ok   Secret key",
        "ok   Slack",
        "--   GitLab",
        "ok   GitHub",
        "ok   Webhooks (GitHub)",
        "ok   Anthropic",
        "ok   Agent",
        "warn Sandbox",
        "warn Network",
        "ok   Redis",
        "ok   Disk",
        "ok   Linked accounts",
    ]
    assert lines[-1] == "All good."
    assert SLACK_TOKEN not in done.stdout and ANTHROPIC_KEY not in done.stdout


def test_dev_doctor_reports_the_running_servers_agent_not_the_terminals(
    settings: Settings, redis: Redis
) -> None:
    """The server runs the command agent; the terminal's environment says anthropic with no
    key. The doctor must tell what the server runs."""
    server_settings = settings.with_changes(min_free_mb=0)
    server = LiveServer(server_settings, redis).start()
    try:
        wait_until(lambda: server_running(redis))
        terminal = env_for(settings, REPOBOX_AGENT="anthropic", REPOBOX_AGENT_COMMAND="")
        done = doctor(terminal)
    finally:
        server.stop()
    assert not server_running(redis)  # a stopped server says so at once
    assert done.returncode == 0, done.stdout + done.stderr
    first, *rest = done.stdout.splitlines()
    assert first.startswith("checks by the running Repobox server on ")
    agent = next(line for line in rest if line.startswith("ok   Agent:"))
    program = (settings.agent_command or "").split()[0]
    assert agent.startswith(f"ok   Agent: command `{program}` (REPOBOX_AGENT_COMMAND)")
    assert "ANTHROPIC_API_KEY is not set" not in done.stdout


def test_an_unreachable_slack_says_why_in_words(settings: Settings, redis: Redis) -> None:
    unresolvable = settings.with_changes(
        slack_bot_token=SLACK_TOKEN, slack_api_url="https://slack.nonexistent.invalid/api/"
    )
    check = check_slack(unresolvable)
    assert check.level is Level.FAIL
    assert check.detail == (
        "Slack could not be reached: name resolution failed for slack.nonexistent.invalid"
    )
    assert "SLACK_API_URL" in check.next_step and "URLError" not in check.line


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
