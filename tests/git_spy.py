"""A `git` first on PATH that records each call's arguments and environment, then runs the
real git: how a test sees every git command Repobox started, without patching Repobox."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

WRAPPER = """#!{python}
import json, os, sys, uuid
with open(os.path.join({log!r}, uuid.uuid4().hex + ".json"), "w") as handle:
    json.dump({{"argv": sys.argv[1:], "env": dict(os.environ)}}, handle)
os.execv({git!r}, ["git", *sys.argv[1:]])
"""


@dataclass(frozen=True)
class GitCall:
    argv: list[str]
    env: dict[str, str]

    @property
    def command(self) -> str:
        return next((a for a in self.argv if not a.startswith("-")), "")


class GitSpy:
    def __init__(self, root: Path) -> None:
        self.log = root / "calls"
        self.log.mkdir(parents=True)
        real = shutil.which("git")
        assert real is not None
        script = root / "bin" / "git"
        script.parent.mkdir()
        script.write_text(WRAPPER.format(python=sys.executable, log=str(self.log), git=real))
        script.chmod(0o755)
        self.bin = script.parent

    def calls(self) -> list[GitCall]:
        """Every git call so far, oldest first, but the fake hosts' own look-ups (they run
        `git -C <repo>`, which Repobox's runner never does)."""
        found = sorted(self.log.iterdir(), key=lambda p: p.stat().st_mtime_ns)
        loaded: list[dict[str, Any]] = [json.loads(p.read_text()) for p in found]
        return [GitCall(c["argv"], c["env"]) for c in loaded if c["argv"][:1] != ["-C"]]


@pytest.fixture
def git_spy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitSpy:
    spy = GitSpy(tmp_path / "git-spy")
    monkeypatch.setenv("PATH", f"{spy.bin}{os.pathsep}{os.environ.get('PATH', '')}")
    return spy
