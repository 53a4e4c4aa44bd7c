"""Least privilege for every process Repobox starts: git, a command agent and the built-in
`run` tool each see an allow-listed environment plus only the credential their call needs.

Distinctive fake tokens (and a database URL no deny-list would catch) are put in this
process's environment, as an operator's shell would; each process writes what it saw.
"""

from __future__ import annotations

import base64
import secrets
import socket
import threading

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.core.errors import GitError
from bot.git.runner import Credentials, git
from bot.security.environment import NETWORK
from bot.security.sandbox_egress import PROXY_NAMES
from bot.sessions.session import Person, Thread
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.agent_support import agent_settings, fake, start_session, workdir
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.git_spy import GitSpy

__all__ = ["fake"]  # fixture

ALLOWED = {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TERM", "USER", "LOGNAME", "SHELL", "TMPDIR"}


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "SLACK_BOT_TOKEN": "xoxb-envtest-1111-slack",
        "GITHUB_TOKEN": "ghp_envtestgithub22222222222222",
        "GITLAB_TOKEN": "glpat-envtest-gitlab-3333",
        "ANTHROPIC_API_KEY": "sk-ant-envtest-4444444444",
        "FOO_SECRET": f"foo-{secrets.token_hex(8)}",
        "MY_DB_URL": "postgres://u:pw@x",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def with_tokens(settings: Settings, tokens: dict[str, str]) -> Settings:
    return settings.with_changes(
        slack_bot_token=tokens["SLACK_BOT_TOKEN"],
        github_token=tokens["GITHUB_TOKEN"],
        gitlab_token=tokens["GITLAB_TOKEN"],
        anthropic_api_key=tokens["ANTHROPIC_API_KEY"],
    )


def parse_env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def assert_holds_only(env: dict[str, str], tokens: dict[str, str], allowed: set[str]) -> None:
    """No token's value under any name, and no name outside the allow-list but `allowed`."""
    shown = "\n".join(f"{k}={v}" for k, v in env.items())
    for name, value in tokens.items():
        if name not in allowed:
            assert value not in shown, name
            assert name not in env, name
    extra = {
        n
        for n in env
        if n not in ALLOWED and not n.startswith(("LC_", "GIT_", "REPOBOX_")) and n not in allowed
    }
    # The proxy variables the run's network allow-list sets point at Repobox's own proxy.
    expected = {"CI", "PAGER", "PWD", "SHLVL", "_", "OLDPWD", *NETWORK, *PROXY_NAMES}
    assert extra <= expected, extra


def test_git_sees_the_allow_list_and_only_its_hosts_credential(
    tokens: dict[str, str], git_spy: GitSpy
) -> None:
    remote = "https://127.0.0.1:9/octo/widgets.git"  # refused at once: nothing listens there
    git(
        "ls-remote",
        "--end-of-options",
        remote,
        credentials=Credentials("x-access-token", tokens["GITHUB_TOKEN"]),
        remote=remote,
        check=False,
        timeout=20,
    )
    [call] = git_spy.calls()
    assert_holds_only(call.env, tokens, allowed=set())
    assert tokens["GITHUB_TOKEN"] not in " ".join(call.argv)
    basic = base64.b64encode(f"x-access-token:{tokens['GITHUB_TOKEN']}".encode()).decode()
    config = {
        call.env[f"GIT_CONFIG_KEY_{i}"]: call.env[f"GIT_CONFIG_VALUE_{i}"]
        for i in range(int(call.env["GIT_CONFIG_COUNT"]))
    }
    assert config == {
        "protocol.allow": "never",
        "protocol.https.allow": "always",
        "http.https://127.0.0.1:9/.extraHeader": f"Authorization: Basic {basic}",
    }
    assert call.env["GIT_PROTOCOL_FROM_USER"] == "0"


def test_a_sessions_git_calls_and_command_agent_see_no_token_but_the_agents_own(
    settings: Settings,
    redis: Redis,
    make_repo: MakeRepo,
    tokens: dict[str, str],
    git_spy: GitSpy,
) -> None:
    ctx: JobContext = runtime.install(
        with_tokens(settings, tokens).with_changes(agent_pass_env=frozenset({"ANTHROPIC_API_KEY"})),
        redis,
    )
    origin = make_repo()
    ours = len(git_spy.calls())
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt="env env.txt",
            thread=Thread("cli", "env-1"),
            person=Person("U1", "Alice"),
            request_id="env-1",
        )
    )
    run_jobs(ctx)
    session = ctx.service.sessions.get(started.session.id)
    seen = parse_env((workdir(session) / "env.txt").read_text())
    assert seen["ANTHROPIC_API_KEY"] == tokens["ANTHROPIC_API_KEY"]  # its own key, nothing else
    assert_holds_only(seen, tokens, allowed={"ANTHROPIC_API_KEY"})
    calls = git_spy.calls()[ours:]
    assert {c.command for c in calls} >= {"ls-remote", "clone", "fetch", "checkout", "commit"}
    for call in calls:
        assert_holds_only(call.env, tokens, allowed=set())


def test_the_run_tool_sees_no_token_at_all(
    settings: Settings,
    redis: Redis,
    make_repo: MakeRepo,
    tokens: dict[str, str],
    fake: FakeAnthropic,
) -> None:
    ctx = runtime.install(agent_settings(with_tokens(settings, tokens), fake), redis)
    fake.script(Reply.tool_use("run", {"command": "env > env.txt"}), Reply.text("Dumped."))
    session = start_session(ctx, make_repo(), "show me the environment")
    seen = parse_env((workdir(session) / "env.txt").read_text())
    assert "PATH" in seen
    assert_holds_only(seen, tokens, allowed=set())


def test_the_credential_reaches_its_host_as_a_header_and_not_the_error() -> None:
    """Real git against a socket that records the request: the scoped header is sent."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(20)
    seen: list[str] = []

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            seen.append(conn.recv(65536).decode(errors="replace"))
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    remote = f"http://127.0.0.1:{server.getsockname()[1]}/group/project.git"
    with pytest.raises(GitError) as failed:
        git(
            "ls-remote",
            "--end-of-options",
            remote,
            credentials=Credentials("oauth2", "glpat-header-test-0000"),
            remote=remote,
            timeout=20,
        )
    thread.join(timeout=20)
    server.close()
    basic = base64.b64encode(b"oauth2:glpat-header-test-0000").decode()
    assert f"Authorization: Basic {basic}" in seen[0].splitlines()
    assert "glpat-header-test" not in str(failed.value)
