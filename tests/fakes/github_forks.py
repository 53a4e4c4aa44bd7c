"""Pull requests from forks, as GitHub keeps them: the head branch lives in the fork, and
the base repository holds a copy of its head at `refs/pull/{n}/head` (which is how
anyone with access to the base, Repobox included, fetches a fork's change).

Only for repositories whose `clone_url` is a local git directory (the tests' bare repos).
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.fakes.github import FakeGitHub, Issue


def from_fork(fake: FakeGitHub, pull: Issue) -> str:
    """Copy the fork's head into the base's `refs/pull/{n}/head`; the head's sha."""
    from tests.fakes.github import _local_git_dir  # the module that calls this one

    assert pull.head_repo is not None and pull.head is not None
    fork, base = fake._repo(pull.head_repo), fake._repo(pull.repo)
    source, target = _local_git_dir(fork.clone_url), _local_git_dir(base.clone_url)
    if source is None or target is None:
        return fake._sha(fork, pull.head)
    subprocess.run(
        ["git", "-C", target, "fetch", "--quiet", source,
         f"+refs/heads/{pull.head}:refs/pull/{pull.number}/head"],
        capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip
    return fake._sha(fork, pull.head)
