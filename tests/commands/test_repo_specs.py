"""Repository specs as people type them: one parser, an allow-list, and local paths only
where the surface may reach them. Nothing here touches the network."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.commands.repo_spec import Reach, RepoSpec, SpecKind, canonical, parse
from bot.core.config import Settings
from bot.core.errors import Forbidden, UserError
from bot.git.branches import valid_branch

HOSTS = Settings(
    gitlab_url="https://git.example.com/gitlab", github_token="ghp_x", default_provider="gitlab"
)
TERMINAL, CHAT = Reach.TERMINAL, Reach.CHAT


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
        ("ssh://git@elsewhere.org:2222/x/y.git", ("local", "ssh://git@elsewhere.org:2222/x/y.git")),
        ("git@git.example.com:a/b.git", ("local", "git@git.example.com:a/b.git")),
        ("<https://github.com/octo/hello|octo/hello>", ("github", "octo/hello")),
    ],
)
def test_specs_with_hosts_configured(spec: str, expected: tuple[str, str]) -> None:
    for reach in Reach:
        parsed = parse(spec, HOSTS, reach)
        assert (parsed.provider, parsed.project) == expected
        assert parse(parsed.text, HOSTS, reach) == parsed  # jobs check the stored spec again


def test_without_hosts_urls_are_plain_remotes_and_names_need_a_host(tmp_path: Path) -> None:
    plain = Settings(data_dir=tmp_path / "data")
    assert parse("https://github.com/octo/hello.git", plain, CHAT) == RepoSpec(
        "local", "https://github.com/octo/hello.git", SpecKind.REMOTE
    )
    assert parse(str(tmp_path), plain, TERMINAL) == RepoSpec("local", str(tmp_path), SpecKind.PATH)
    for reach in Reach:
        with pytest.raises(UserError) as raised:
            parse("group/project", plain, reach)
        assert str(raised.value) == (
            "I don't know where `group/project` lives: no GitLab or GitHub is configured. "
            "Use a clone URL or a path, or set GITLAB_URL / GITHUB_TOKEN."
        )


REFUSED = [
    "--upload-pack=touch${IFS}marker;#://x",  # issue 9, item 1
    "local:--upload-pack=touch${IFS}marker;#://x",
    "-oProxyCommand=touch/x",
    "ext::sh -c touch% /tmp/x",
    "ext::sh",
    "fd::0/x",
    "https://host/x::y",
    "git://example.org/x.git",
    "ftp://example.org/x.git",
    "http://example.org/x.git",  # plain http only where it names a configured host
    "git+ssh://example.org/x.git",
    "https:///nohost.git",
    "https://user:hunter2@example.org/x.git",  # tokens live in settings, not URLs
    "https://example.org:notaport/x.git",
    "git@-oProxyCommand=x:a/b",
    "git@host:-upload/pack",
    "a/b c",
    "a/b\tc",
    "a/b\nc",
    "a/b\x00c",
    "a/b\x1bc",
    "a/b\u200bc",  # invisible format character
    'a/"b',
    "a/`b`",
    "gitlab:a",
    "github:-o/r",
    "gitlab:a/../b",
    "x" * 600,
    "",
    "<>",
]


@pytest.mark.parametrize("spec", REFUSED)
def test_refused_specs_are_user_errors_on_every_surface(spec: str) -> None:
    for reach in Reach:
        with pytest.raises(UserError):
            parse(spec, HOSTS, reach)


def test_local_paths_from_chat_only_under_the_local_roots(tmp_path: Path) -> None:
    """Issue 9, item 2: `.`, `local:/`, `file:///proc/self/cwd`, the data dir, `~user`."""
    roots = tmp_path / "repos"
    (roots / "ok.git").mkdir(parents=True)
    data = tmp_path / "data"
    (data / "mirrors" / "m.git").mkdir(parents=True)
    (roots / "link.git").symlink_to(data / "mirrors" / "m.git")
    (roots / "out.git").symlink_to(tmp_path)
    none = Settings(data_dir=data)
    some = none.with_changes(local_roots=(roots, tmp_path / "missing-root"))

    ok = parse(str(roots / "ok.git"), some, CHAT)
    assert ok == RepoSpec("local", str(roots / "ok.git"), SpecKind.PATH)
    assert parse(f"file://{roots}/ok.git", some, CHAT) == ok
    assert parse(f"local:{roots}/ok.git", some, CHAT) == ok
    assert parse(f"{roots}/x/../ok.git", some, CHAT) == ok
    with pytest.raises(UserError, match="does not exist"):  # inside the roots: said plainly
        parse(str(roots / "nope.git"), some, CHAT)

    outside = [
        ".",
        "..",
        "local:/",
        "/",
        "file:///proc/self/cwd",
        "/proc/self/cwd",
        "file:///etc",
        f"{roots}/../",
        str(roots / "out.git"),  # a symlink that leads out
        str(tmp_path / "does-not-exist"),  # the same answer whether it exists or not
        "~",
        "~root/x",
        "~nosuchuser/x",
        "local:~nosuchuser/x",
    ]
    for settings in (none, some):
        for spec in outside:
            with pytest.raises(Forbidden) as refused:
                parse(spec, settings, CHAT)
            assert str(refused.value).startswith("Local paths are for the terminal"), spec
            assert ("REPOBOX_LOCAL_ROOTS is empty" in str(refused.value)) == (settings is none)

    for spec in (str(data / "mirrors" / "m.git"), str(roots / "link.git"), str(data)):
        for reach in Reach:
            with pytest.raises(Forbidden, match="data directory"):
                parse(spec, some.with_changes(local_roots=(tmp_path,)), reach)


def test_the_terminal_opens_any_path_and_says_when_a_home_is_unknown(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    here = Path.cwd().resolve()
    assert parse(".", settings, TERMINAL) == RepoSpec("local", str(here), SpecKind.PATH)
    assert parse("file:///proc/self/cwd", settings, TERMINAL).project == str(here)
    with pytest.raises(UserError) as raised:  # expanduser's RuntimeError was a 500
        parse("~nosuchuser/x", settings, TERMINAL)
    assert str(raised.value) == "`~nosuchuser/x`: there is no such user's home directory here."
    assert not isinstance(raised.value, Forbidden)
    with pytest.raises(UserError, match="does not exist"):
        parse(str(tmp_path / "missing"), settings, TERMINAL)


def test_canonical_text_reads_back() -> None:
    assert canonical("github", "o/r") == "github:o/r"
    assert canonical("local", "/srv/x.git") == "/srv/x.git"


BRANCHES = [
    "main",
    "feature/login",
    "repobox/abc123-fix-it",
    "v1.2",
    "ünïcode",
    "a-b_c.d",
    "-x",
    "--upload-pack=x",
    "a..b",
    "a b",
    "a~1",
    "a^",
    "a:b",
    "a?",
    "a*",
    "a[b",
    "a\\b",
    "a@{b",
    "@",
    "HEAD",
    "/a",
    "a/",
    "a//b",
    "a.",
    ".a",
    "a/.b",
    "a.lock",
    "a/b.lock/c",
    "a\x7f",
    "a\x01",
    "",
]


@pytest.mark.parametrize("name", BRANCHES)
def test_branch_check_matches_git_check_ref_format(name: str) -> None:
    if not name or name in ("@", "HEAD"):  # git reads these as "the current branch"
        assert not valid_branch(name)
        return
    done = subprocess.run(
        ["git", "check-ref-format", "--branch", name],
        capture_output=True,
        check=False,
        env={**os.environ, "GIT_DIR": "/nonexistent"},
    )
    assert valid_branch(name) == (done.returncode == 0), name
