"""A clone or fetch that fails says git's own reason, with every secret masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import NotFound
from bot.git.mirrors import MirrorCache
from bot.git.reasons import reason
from bot.git.runner import Credentials

SECRET = "SECRETtoken0123456789"


def test_an_unresolvable_host_is_named_and_no_token_is_shown(tmp_path: Path) -> None:
    url = f"https://x-token:{SECRET}@nonexistent.invalid/a/b.git"
    with pytest.raises(NotFound) as refused:
        MirrorCache(tmp_path).ensure(url, Credentials("x-token", f"{SECRET}-header"))
    said = str(refused.value)
    assert said.startswith("I could not clone https://[redacted]@nonexistent.invalid/a/b.git: ")
    assert "Could not resolve host: nonexistent.invalid" in said
    assert "Check the host name" in said  # what to do about it
    assert SECRET not in said


def test_a_path_that_is_no_repository_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "missing.git"
    with pytest.raises(NotFound) as refused:
        MirrorCache(tmp_path / "mirrors").ensure(str(missing))
    assert str(refused.value).startswith(
        f"I could not clone {missing}: repository '{missing}' does not exist."
    )
    assert not list((tmp_path / "mirrors").glob("*.partial"))  # nothing half-made is left


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (
            "Cloning into bare repository 'x'...\nfatal: unable to access "
            "'https://gitlb.com/a/b.git/': Could not resolve host: gitlb.com\n",
            "Could not resolve host: gitlb.com",
        ),
        (
            "remote: HTTP Basic: Access denied\nfatal: Authentication failed for "
            "'https://gitlab.com/a/b.git/'\n",
            "Authentication failed for 'https://gitlab.com/a/b.git/'",
        ),
        (
            "remote: Repository not found.\nfatal: repository "
            "'https://github.com/a/b.git/' not found\n",
            "Repository not found.",
        ),
        (
            "git@github.com: Permission denied (publickey).\r\nfatal: Could not read from "
            "remote repository.\n\nPlease make sure you have the correct access rights\n"
            "and the repository exists.\n",
            "git@github.com: Permission denied (publickey).",
        ),
        ("fatal: something new went wrong\nhint: try this\n", "something new went wrong"),
        ("", ""),
    ],
)
def test_the_reason_is_the_line_that_says_why(stderr: str, expected: str) -> None:
    assert reason(stderr) == expected
