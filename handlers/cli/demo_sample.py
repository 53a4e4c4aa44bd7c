"""The demo's sample repository: a bare git repository beside the data dir (Repobox never
opens its own data dir as a repository), standing in for a project on GitLab or GitHub,
so shipping has somewhere real to push.

It holds a tiny program, its test and a `.repobox.yml` whose one check runs the test, with
the system `python3` (which the sandbox shows). Its one commit is made with fixed names and
dates, so every `./dev demo` makes the same commit: a second run resets `main` to it and
drops the work branches earlier demos pushed, and the mirror Repobox keeps of the sample
stays valid.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.git.runner import git

SAMPLE = "sample.git"
FILES = {
    "README.md": (
        "# hello\n\nA tiny program for Repobox's demo: `python3 hello.py Ada` says hello.\n"
    ),
    "hello.py": (
        "import sys\n\n\n"
        "def greet(name):\n"
        '    return "Hello, " + name + "!"\n\n\n'
        'if __name__ == "__main__":\n'
        '    print(greet(sys.argv[1] if len(sys.argv) > 1 else "world"))\n'
    ),
    "test_hello.py": (
        "import unittest\n\nfrom hello import greet\n\n\n"
        "class GreetTest(unittest.TestCase):\n"
        "    def test_greet(self):\n"
        '        self.assertEqual(greet("Ada"), "Hello, Ada!")\n'
    ),
    ".repobox.yml": (
        "# Repobox runs these checks after every prompt; a failing required one stops `ship it`.\n"
        "checks:\n"
        "  - name: tests\n"
        "    run: python3 -m unittest -q\n"
        "    required: true\n"
    ),
}
_SAME_EVERY_TIME = {
    "GIT_AUTHOR_NAME": "Repobox demo",
    "GIT_AUTHOR_EMAIL": "demo@repobox.invalid",
    "GIT_AUTHOR_DATE": "2025-01-01T12:00:00Z",
    "GIT_COMMITTER_NAME": "Repobox demo",
    "GIT_COMMITTER_EMAIL": "demo@repobox.invalid",
    "GIT_COMMITTER_DATE": "2025-01-01T12:00:00Z",
}


def demo_place(data_dir: Path) -> Path:
    """Where the demo keeps its sample and its log: `.repobox-demo` beside `.repobox`."""
    return data_dir.parent / f"{data_dir.name}-demo"


def make_sample(demo_dir: Path) -> Path:
    """The sample's bare repository, made or reset to its first commit; its path."""
    bare = demo_dir / SAMPLE
    if not (bare / "HEAD").is_file():
        bare.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", "--bare", "--initial-branch=main", cwd=bare)
    with tempfile.TemporaryDirectory(prefix="repobox-demo-") as scratch:
        seed = Path(scratch)
        git("init", "--quiet", "--initial-branch=main", cwd=seed)
        for name, text in FILES.items():
            (seed / name).write_text(text)
        git("add", "--all", cwd=seed)
        git(
            "commit",
            "--quiet",
            "-m",
            "A tiny program to try Repobox on",
            cwd=seed,
            env=_SAME_EVERY_TIME,
        )
        git("push", "--quiet", "--force", str(bare), "main", cwd=seed, remote=str(bare))
    for ref in git("for-each-ref", "--format=%(refname)", "refs/heads", cwd=bare).split():
        if ref != "refs/heads/main":
            git("update-ref", "-d", ref, cwd=bare)
    return bare


def branch_log(bare: Path, branch: str) -> list[str]:
    """The sample's commits on `branch` past `main`, newest first: what a ship pushed."""
    out = git("log", "--format=%h %s", f"main..{branch}", "--", cwd=bare)
    return out.splitlines()
