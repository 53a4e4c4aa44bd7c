"""What the checks cost a run, and what the setup cache saves a second session.

1. Checks per run: the small repository of tests/checks_repo.py (a required test check,
   `python3 -m unittest`, and an optional lint check, `python3 -m compileall`, both with
   the system interpreter so the sandbox sees the same binary) is checked ROUNDS times
   after its setup is done; the same commands run bare (`bash -c`, no guardian, no
   sandbox) are the baseline in the same run.
2. Setup cache: a real setup (pip: `python3 -m venv .venv && .venv/bin/pip install -r
   requirements.txt`; npm: `npm install`, a few small packages from the registries) in a
   first session's workdir with an empty cache, then in a second session's workdir of the
   same repository, whose package manager finds the downloads in the repository's cache.
   (Where pip's index is a local mirror, as on the development machines, pip downloads
   nothing and leaves nothing to cache: the bench prints the bytes cached to show it.)

    python bench/checks.py [rounds] [--no-setup]

`--no-setup` skips part 2 (the package managers' downloads): the suite's smoke size.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.checks.reading import parse_config
from bot.checks.runner import CheckRunner
from bot.core.config import Settings
from bot.processes.control import RunControl
from bot.security.sandbox import sandbox_for
from tests.checks_repo import files, repobox_yml

ROUNDS = 5
PACKAGES = "six==1.17.0\niniconfig==2.1.0\npackaging==25.0\npluggy==1.6.0\n"
NPM_PACKAGES = (
    '{"name": "bench", "version": "1.0.0", "dependencies": {"semver": "7.7.2", '
    '"debug": "4.4.1", "commander": "12.1.0", "chalk": "4.1.2", "yargs": "17.7.2"}}\n'
)


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def repository(path: Path, content: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    git("init", "--quiet", "--initial-branch=main", ".", cwd=path)
    for name, text in content.items():
        (path / name).write_text(text)
    git("add", "--all", cwd=path)
    git("-c", "user.name=b", "-c", "user.email=b@x", "commit", "--quiet", "-m", "base", cwd=path)
    return path


def checks_per_run(settings: Settings, tmp: Path, rounds: int) -> None:
    work = tmp / "small"
    # The system interpreter, visible in the sandbox and the same binary for the baseline.
    python = shutil.which("python3", path="/usr/bin:/bin") or "python3"
    yml = repobox_yml(f"{python} -m unittest -q", f"{python} -m compileall -q .")
    content = {**files(settings, work), ".repobox.yml": yml}
    repository(work, content)
    config = parse_config(content[".repobox.yml"])
    runner = CheckRunner(settings, "bench-small", sandbox_for(settings))
    runner.run(work, config, RunControl(600), commit="c")  # the setup, once
    timed, bare, inner = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        report = runner.run(work, config, RunControl(600), commit="c", changed=["calc.py"])
        timed.append(time.perf_counter() - started)
        inner.append(report.duration)
        assert report.passed, report.verdicts()
        started = time.perf_counter()
        for check in config.checks:
            subprocess.run(["bash", "-c", check.run], cwd=work, capture_output=True, check=True)
        bare.append(time.perf_counter() - started)
    added, baseline = statistics.median(timed), statistics.median(bare)
    print(f"checks on a small repository ({len(config.checks)} checks, median of {rounds}):")
    print(f"  time the checks add to a run:   {added:6.2f} s")
    print(f"  of which the commands' own:     {statistics.median(inner):6.2f} s")
    print(f"  same commands bare (baseline):  {baseline:6.2f} s  (ratio {added / baseline:.2f}x)")


Setup = tuple[str, str, str, dict[str, str]]  # label, setup command, check, files
PIP: Setup = (
    "pip (4 small packages)",
    "python3 -m venv .venv && .venv/bin/pip install -q -r requirements.txt",
    '.venv/bin/python -c "import six"',
    {"requirements.txt": PACKAGES, "app.py": "import six\n"},
)
NPM: Setup = (
    "npm (5 small packages and their dependencies)",
    "npm install --no-audit --no-fund --loglevel=error",
    'node -e "require(\\"semver\\")"',
    {"package.json": NPM_PACKAGES, "index.js": "require('semver')\n"},
)


def setup_cache(settings: Settings, tmp: Path, rounds: int, kind: Setup) -> None:
    """Alternate a session of a fresh repository (empty cache) and a second session of a
    repository whose first session filled the cache; medians of each."""
    label, setup, check, content = kind
    config = parse_config(f"setup: '{setup}'\nchecks:\n  - {{name: use, run: '{check}'}}\n")
    tmp = tmp / label.split()[0]
    tmp.mkdir()
    cold, warm, cached = [], [], 0
    for round_ in range(max(2, rounds // 2)):
        for session in ("first", "second"):
            runner = CheckRunner(settings, f"{tmp.name}-{round_}", sandbox_for(settings))
            work = repository(tmp / f"{session}-{round_}", content)
            report = runner.run(work, config, RunControl(1800), commit="c")
            if report.setup is None or not report.passed:
                tail = report.setup.tail[-300:] if report.setup else ""
                print(f"  setup did not pass ({tail}); is the package index reachable?")
                return
            (cold if session == "first" else warm).append(report.setup.duration)
        cached = max(cached, _size(runner.cache_root))
        again = runner.run(work, config, RunControl(600), commit="c")
    first, second = statistics.median(cold), statistics.median(warm)
    print(f"setup with {label}, median of {len(cold)} pairs:")
    print(f"  first session (empty cache):    {first:6.2f} s")
    print(f"  second session (cache reused):  {second:6.2f} s  (saved {first - second:.2f} s)")
    print(f"  bytes left in the cache:        {cached:,}")
    skipped = again.setup is None and again.setup_cached
    print(
        f"  same workdir, next prompt:      setup skipped: {skipped}, the checks took "
        f"{again.duration:.2f} s"
    )


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--no-setup"]
    rounds = int(args[0]) if args else ROUNDS
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        settings = Settings(data_dir=tmp / "data", sandbox="auto")
        where = "in bubblewrap" if sandbox_for(settings) else "without a sandbox"
        print(f"checks run {where}")
        checks_per_run(settings, tmp, rounds)
        if "--no-setup" in sys.argv:
            return
        setup_cache(settings, tmp, rounds, PIP)
        setup_cache(settings, tmp, rounds, NPM)


if __name__ == "__main__":
    main()
