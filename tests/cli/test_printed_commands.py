"""The commands Repobox prints work as printed: `./dev <command>`, never `python app.py`,
which in a fresh clone is not the project's environment and fails on its first import."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("bot", "handlers", "jobs")


def printed_strings(path: Path) -> list[str]:
    """Every string constant of a module except docstrings (which nobody is shown)."""
    tree = ast.parse(path.read_text())
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_message_says_python_app_py() -> None:
    files = [ROOT / "app.py"]
    for package in PACKAGES:
        files += sorted((ROOT / package).rglob("*.py"))
    said = {
        f"{path.relative_to(ROOT)}: {text!r}"
        for path in files
        for text in printed_strings(path)
        if "python app.py" in text and "outside `.venv`" not in text
    }
    templates = [path for package in PACKAGES for path in (ROOT / package).rglob("*.html")]
    said |= {str(p.relative_to(ROOT)) for p in templates if "python app.py" in p.read_text()}
    assert not said


def test_plain_python_without_the_environment_says_how_to_make_it(tmp_path: Path) -> None:
    """`python app.py login` with no `.venv` beside it: one line, no ModuleNotFoundError."""
    bare = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    copy = tmp_path / "clone"
    copy.mkdir()
    shutil.copy(ROOT / "app.py", copy / "app.py")
    for package in PACKAGES:
        (copy / package).symlink_to(ROOT / package)
    done = subprocess.run(
        [bare, "-E", "-S", str(copy / "app.py"), "login"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "Repobox's environment is not set up here: run ./dev run (it creates the environment)"
    )


def test_plain_python_runs_again_inside_the_environment_beside_it(tmp_path: Path) -> None:
    """With a `.venv` beside app.py, a plain `python app.py` re-executes itself under it."""
    venv = Path(sys.prefix)
    copy = tmp_path / "clone"
    (copy / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "app.py", copy / "app.py")
    for package in PACKAGES:
        (copy / package).symlink_to(ROOT / package)
    shutil.copy(venv / "pyvenv.cfg", copy / ".venv" / "pyvenv.cfg")
    (copy / ".venv" / "lib").symlink_to(venv / "lib")
    (copy / ".venv" / "bin" / "python").symlink_to(Path(sys.executable).resolve())
    bare = Path(sys.executable).resolve()  # the same interpreter, outside any environment
    done = subprocess.run(
        [str(bare), "-E", "-S", str(copy / "app.py"), "session", "new", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ./dev session new")
