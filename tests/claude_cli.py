"""The real Claude Code CLI for tests: installed once from npm, pinned, into a cache folder.

`claude_bin_dir()` returns a directory holding `claude` (put it first on PATH), installing
`@anthropic-ai/claude-code@VERSION` with npm into `REPOBOX_TEST_CACHE` (default: `.cache/`
in the repository, ignored by git; a system folder when the repository sits where the
sandbox hides it) the first time. The cache is never under the home directory or /tmp,
because the sandbox hides those, and a command the sandbox cannot see cannot run in it.
Tests skip only when npm is absent.

npm may skip the package's postinstall (which copies the native binary over a placeholder)
when scripts are not allowed; then it is run here, as the package's README says.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.security.sandbox import ALWAYS_HIDDEN
from tests.conftest import ROOT

VERSION = "2.1.197"
PACKAGE = "@anthropic-ai/claude-code"
PLACEHOLDER_MAX = 1_000_000  # bin/claude.exe before postinstall is a small stub


SHARED_CACHE = Path("/var/cache/repobox-tests")


def cache_dir() -> Path:
    """`REPOBOX_TEST_CACHE`, else `.cache/` in the repository, unless the sandbox would hide
    it there (a checkout under /tmp or the home directory): then a system cache folder the
    sandbox leaves visible, so the sandboxed tests can run the CLI too."""
    explicit = os.environ.get("REPOBOX_TEST_CACHE")
    base = Path(explicit) if explicit else ROOT / ".cache"
    if not explicit and _hidden_by_sandbox(base) and _writable(SHARED_CACHE):
        base = SHARED_CACHE
    return base / f"claude-code-{VERSION}"


def _hidden_by_sandbox(path: Path) -> bool:
    home = Path(os.environ.get("HOME") or Path.home()).resolve()
    hidden = (*ALWAYS_HIDDEN, home)
    resolved = path.resolve()
    return any(resolved == place or place in resolved.parents for place in hidden)


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def claude_bin_dir() -> Path:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so the real Claude Code CLI cannot be installed")
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install even when test processes race
        package = target / "node_modules" / PACKAGE
        binary = package / "bin" / "claude.exe"
        if not binary.exists():
            subprocess.run(
                [
                    npm,
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(target),
                    f"{PACKAGE}@{VERSION}",
                ],
                check=True,
                capture_output=True,
                timeout=600,
            )
        if binary.stat().st_size < PLACEHOLDER_MAX:
            subprocess.run(["node", "install.cjs"], cwd=package, check=True, capture_output=True)
    return target / "node_modules" / ".bin"
