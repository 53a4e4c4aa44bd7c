"""A small real repository with `.repobox.yml` for the checks tests and bench/checks.py.

Its tests are `unittest` test cases, which pytest also collects. The required check runs
the test interpreter's `python -m pytest` and the optional lint `python -m ruff check`,
inside bubblewrap when it works here. The sandbox hides the home directory, `/tmp` and the
data dir; when the test interpreter lives in one of those (a checkout under the home
directory), pytest and ruff cannot be seen from inside, and the checks fall back to the
system `python3 -m unittest` and `python3 -m compileall`, which are always there: the
verdicts are the same either way, only the runner differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.core.config import Settings
from bot.security.sandbox import Sandbox, sandbox_for

CALC = "def add(a, b):\n    return a + b\n"
BROKEN_CALC = "def add(a, b):\n    return a - b\n"
TEST_CALC = (
    "import unittest\n\nfrom calc import add\n\n\n"
    "class AddTest(unittest.TestCase):\n"
    "    def test_add(self):\n"
    "        self.assertEqual(add(2, 3), 5)\n"
)
SETUP = (
    'if [ -d "$PIP_CACHE_DIR/deps" ]; then echo "deps from the cache"; '
    'else sleep 1; mkdir "$PIP_CACHE_DIR/deps"; echo "deps downloaded"; fi; '
    "mkdir -p .deps && touch .deps/ready"
)


def commands(sandbox: Sandbox | None, workdir: Path) -> tuple[str, str]:
    """(the test command, the lint command) that can run where the checks run."""
    needed = (Path(sys.executable).resolve(), Path(sys.prefix), Path(sys.base_prefix))
    hidden = sandbox is not None and any(
        sandbox.hidden_place(path, workdir) is not None for path in needed
    )
    if hidden:
        return "python3 -m unittest -q", "python3 -m compileall -q ."
    python = sys.executable
    return f"{python} -m pytest -q -p no:cacheprovider", f"{python} -m ruff check --no-cache ."


def repobox_yml(tests: str, lint: str) -> str:
    return (
        "setup:\n"
        f"  - '{SETUP}'\n"
        "checks:\n"
        "  - name: tests\n"
        f"    run: {tests}\n"
        "    timeout: 120\n"
        "    required: true\n"
        "  - name: lint\n"
        f"    run: {lint}\n"
        "    required: false\n"
        '    paths: ["**/*.py"]\n'
        "autofix: 1\n"
    )


def files(settings: Settings, probe_dir: Path) -> dict[str, str]:
    """The base branch's files, its `.repobox.yml` fitted to where checks will run."""
    tests, lint = commands(sandbox_for(settings), probe_dir)
    return {
        "calc.py": CALC,
        "test_calc.py": TEST_CALC,
        "README.md": "# calc\n",
        ".repobox.yml": repobox_yml(tests, lint),
    }
