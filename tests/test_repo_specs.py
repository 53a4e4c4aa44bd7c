"""Repositories as people type them map to the right host, without touching the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import UserError
from bot.providers import parse_spec

HOSTS = Settings(
    gitlab_url="https://git.example.com/gitlab", github_token="ghp_x", default_provider="gitlab"
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("group/project", ("gitlab", "group/project")),
        ("github:octo/hello", ("github", "octo/hello")),
        ("gitlab:a/b/c", ("gitlab", "a/b/c")),
        ("https://git.example.com/gitlab/a/b.git", ("gitlab", "a/b")),
        ("https://git.example.com/gitlab/a/b/-/merge_requests/3", ("gitlab", "a/b")),
        ("https://github.com/octo/hello.git", ("github", "octo/hello")),
        ("https://elsewhere.org/x/y.git", ("local", "https://elsewhere.org/x/y.git")),
        ("git@git.example.com:a/b.git", ("local", "git@git.example.com:a/b.git")),
        ("<https://github.com/octo/hello|octo/hello>", ("github", "octo/hello")),
    ],
)
def test_specs_with_hosts_configured(spec: str, expected: tuple[str, str]) -> None:
    assert parse_spec(spec, HOSTS) == expected


def test_without_hosts_urls_are_plain_remotes_and_names_need_a_host(tmp_path: Path) -> None:
    plain = Settings(data_dir=tmp_path)
    assert parse_spec("https://github.com/octo/hello.git", plain) == (
        "local",
        "https://github.com/octo/hello.git",
    )
    assert parse_spec(str(tmp_path), plain) == ("local", str(tmp_path))
    with pytest.raises(UserError) as raised:
        parse_spec("group/project", plain)
    assert str(raised.value) == (
        "I don't know where `group/project` lives: no GitLab or GitHub is configured. "
        "Use a clone URL or a path, or set GITLAB_URL / GITHUB_TOKEN."
    )
