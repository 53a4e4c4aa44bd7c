"""Checks from the terminal: verdicts while watching, `ship` refused, `undo`, the check
steps and their output in `watch`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bot.core.config import Settings
from tests.checks_repo import files
from tests.cli.test_cli import session_id_from
from tests.conftest import ROOT, MakeRepo, WorkerProcess, env_for

BREAK = (
    "write calc.py: def add(a, b): return a - b\n"
    "write FIX.txt: write calc.py: def add(a, b): return a + b"
)


def test_cli_verdicts_refused_ship_fix_and_undo(
    settings: Settings,
    start_worker: Callable[..., WorkerProcess],
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "session", *args],
            env=env_for(settings),
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )

    tree = files(settings, tmp_path / "probe")
    origin = make_repo(files={**tree, ".repobox.yml": tree[".repobox.yml"].replace("1\n", "0\n")})
    start_worker()
    new = cli("new", str(origin), BREAK, "--watch")
    assert new.returncode == 0, new.stderr
    session_id = session_id_from(new.stdout)
    assert "❌ tests failed (exit 1" in new.stdout and "check" in new.stdout

    shipped = cli("ship", session_id)
    assert shipped.returncode != 0
    assert "Not shipping: required checks fail" in shipped.stdout + shipped.stderr

    fixed = cli("prompt", session_id, "fix the checks", "--watch")
    assert fixed.returncode == 0 and "✅ tests passed" in fixed.stdout

    undone = cli("prompt", session_id, "undo")
    assert undone.returncode == 0, undone.stderr
    assert "by moving the work branch back (it was not pushed yet)" in undone.stdout
