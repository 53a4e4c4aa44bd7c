"""Credentials reach git only through the environment, and no error or log shows them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.core.config import Settings
from bot.core.errors import GitError
from bot.core.logs import RedactingFilter
from bot.core.redaction import Redactor
from bot.git.runner import Credentials, git
from bot.security.environment import agent_environment
from tests.conftest import MakeRepo


def test_credentials_never_land_in_config_argv_or_errors(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    origin = make_repo()
    token = "glpat-SuperSecretToken123456"
    clone = tmp_path / "clone"
    git(
        "clone",
        "--quiet",
        str(origin),
        str(clone),
        credentials=Credentials("oauth2", token),
        remote=str(origin),
    )
    config = (clone / ".git" / "config").read_text()
    assert token not in config and "extraHeader" not in config
    with pytest.raises(GitError) as raised:
        git(
            "clone",
            f"https://oauth2:{token}@127.0.0.1:9/x.git",
            str(tmp_path / "x"),
            credentials=Credentials("oauth2", token),
            remote="https://127.0.0.1:9/x.git",
            timeout=20,
        )
    assert token not in str(raised.value)


def test_redactor_hides_known_secrets_url_credentials_and_token_shapes() -> None:
    redact = Redactor(["hunter2-long-secret"])
    text = redact(
        "key hunter2-long-secret at https://bob:pw@host/x and xoxb-1234567890-abcdef ghp_"
        + "a" * 36
    )
    assert (
        "hunter2" not in text
        and "bob:pw" not in text
        and "1234567890-ab" not in text
        and "a" * 5 not in text
    )
    assert "xoxb-****cdef" in text and "ghp_****aaaa" in text  # masked: kind and last four


def test_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "token is %s", ("sk-ant-api03-abcdefghijklmnop",), None
    )
    RedactingFilter(Redactor()).filter(record)
    assert record.getMessage() == "token is sk-ant-****mnop"


def test_agent_environment_drops_every_secret(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        slack_bot_token="xoxb-secret-value",
        extra_secret_env=frozenset({"MY_VAR"}),
    )
    base = {
        "PATH": "/usr/bin",
        "SLACK_BOT_TOKEN": "xoxb-secret-value",
        "GITHUB_TOKEN": "ghp_x",
        "MY_VAR": "1",
        "SOME_PASSWORD": "p",
        "COPY_OF_TOKEN_VALUE": "xoxb-secret-value",
        "HOME": "/root",
    }
    env = agent_environment(settings, base=base)
    assert env["PATH"] == "/usr/bin" and env["HOME"] == "/root"
    for name in (
        "SLACK_BOT_TOKEN",
        "GITHUB_TOKEN",
        "MY_VAR",
        "SOME_PASSWORD",
        "COPY_OF_TOKEN_VALUE",
    ):
        assert name not in env
    kept = agent_environment(settings, base={"ANTHROPIC_API_KEY": "k"}, keep={"ANTHROPIC_API_KEY"})
    assert kept["ANTHROPIC_API_KEY"] == "k"


def test_git_uses_only_the_protocol_of_the_remote_it_names(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """`ext::` runs commands; it is refused before git starts, and git itself allows no
    transport but the one of the call's remote, so a URL smuggled in elsewhere fails too."""
    marker = tmp_path / "marker"
    smuggled = f"ext::sh -c touch% {marker}"
    with pytest.raises(GitError, match="may not use the `ext` transport"):
        git("ls-remote", "--end-of-options", smuggled, remote=smuggled, timeout=20)
    origin = make_repo()
    for remote in (smuggled, str(origin), origin.as_uri()):
        with pytest.raises(GitError):  # no remote named: no transport at all
            git("ls-remote", "--end-of-options", remote, timeout=20)
    with pytest.raises(GitError):  # an https call cannot reach a local path
        git("ls-remote", "--end-of-options", str(origin), remote="https://example.org/x.git")
    assert "HEAD" in git("ls-remote", "--end-of-options", str(origin), remote=str(origin))
    assert not marker.exists()
