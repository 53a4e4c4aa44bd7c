"""The checks runner: real commands under the guardian, in bubblewrap when it is usable."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from bot.checks.config import ChecksConfig
from bot.checks.reading import parse_config
from bot.checks.results import CheckReport, CheckResult, CheckStarted, CheckStatus
from bot.checks.runner import MARKER, CheckRunner
from bot.core.config import Settings
from bot.processes.control import RunControl
from bot.security.sandbox import Sandbox, probe
from tests.conftest import git

needs_bwrap = pytest.mark.skipif(
    not probe().usable, reason=f"bubblewrap is not usable here: {probe().detail}"
)
WHERE = [pytest.param(False, id="bare"), pytest.param(True, id="sandbox", marks=needs_bwrap)]


def workdir(tmp_path: Path, name: str = "work", files: dict[str, str] | None = None) -> Path:
    path = tmp_path / name
    git("init", "--quiet", "--initial-branch=main", str(path))
    for file, text in (files or {"app.py": "print('hi')\n"}).items():
        (path / file).parent.mkdir(parents=True, exist_ok=True)
        (path / file).write_text(text)
    git("add", "--all", cwd=path)
    git("commit", "--quiet", "-m", "initial", cwd=path)
    return path


def runner(settings: Settings, sandboxed: bool, repo: str = "repo-1") -> CheckRunner:
    sandbox = Sandbox(settings, probe().path or "bwrap") if sandboxed else None
    return CheckRunner(settings, repo, sandbox)


def run(
    checks: CheckRunner,
    work: Path,
    config: ChecksConfig,
    changed: list[str] | None = None,
    control: RunControl | None = None,
) -> tuple[CheckReport, list[CheckStarted | CheckResult]]:
    seen: list[CheckStarted | CheckResult] = []
    report = checks.run(
        work, config, control or RunControl(60), commit="c0ffee", changed=changed, emit=seen.append
    )
    return report, seen


@pytest.mark.parametrize("sandboxed", WHERE)
def test_verdicts_exit_codes_output_and_timeouts(
    settings: Settings, tmp_path: Path, sandboxed: bool
) -> None:
    config = parse_config(
        "checks:\n"
        "  - {name: unit, run: 'echo ran the tests; seq 1 30'}\n"
        "  - {name: types, run: 'echo 2 errors >&2; exit 2'}\n"
        "  - {name: slow, run: 'echo waiting; sleep 30', timeout: 1}\n"
        "  - {name: style, run: 'exit 1', required: false}\n"
    )
    report, seen = run(runner(settings, sandboxed), workdir(tmp_path), config)
    assert [r.status for r in report.results] == [
        CheckStatus.PASSED,
        CheckStatus.FAILED,
        CheckStatus.TIMED_OUT,
        CheckStatus.FAILED,
    ]
    unit, types, slow, _ = report.results
    assert unit.output.splitlines()[0] == "ran the tests"
    assert unit.tail.splitlines() == [str(n) for n in range(16, 31)]  # the last 15 lines
    assert types.exit_code == 2 and types.tail == "2 errors"
    assert slow.reason == "killed after 1 s" and slow.duration < 10
    assert [b.name for b in report.blocking] == ["types", "slow"]  # style is optional
    assert not report.passed
    assert report.verdicts()[1].startswith("❌ types failed (exit 2, ")
    assert report.verdicts()[3].endswith("· optional")
    assert [type(e).__name__ + ":" + e.name for e in seen] == [
        "CheckStarted:unit", "CheckResult:unit", "CheckStarted:types", "CheckResult:types",
        "CheckStarted:slow", "CheckResult:slow", "CheckStarted:style", "CheckResult:style",
    ]  # fmt: skip
    assert CheckReport.from_dict(report.to_dict()) == report


def test_paths_run_a_check_only_when_the_run_changed_matching_files(
    settings: Settings, tmp_path: Path
) -> None:
    config = parse_config(
        "checks:\n"
        "  - {name: lint, run: 'true', paths: ['**/*.py']}\n"
        "  - {name: docs, run: 'true', paths: ['docs/', '*.md']}\n"
    )
    checks, work = runner(settings, False), workdir(tmp_path)
    report, _ = run(checks, work, config, changed=["bot/deep/x.py"])
    assert [r.status for r in report.results] == [CheckStatus.PASSED, CheckStatus.SKIPPED]
    assert report.results[1].reason == "no changed file matches docs/, *.md"
    assert report.passed  # a skipped required check does not block
    report, _ = run(checks, work, config, changed=["docs/guide/intro.txt", "app.py"])
    assert [r.status for r in report.results] == [CheckStatus.PASSED, CheckStatus.PASSED]
    report, _ = run(checks, work, config, changed=None)  # unknown: everything runs
    assert all(r.status is CheckStatus.PASSED for r in report.results)


@pytest.mark.parametrize("sandboxed", WHERE)
def test_checks_see_no_secret_and_secret_output_is_masked(
    settings: Settings, tmp_path: Path, sandboxed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "xoxb-1234567890-abcdefghijklmnop"
    settings = settings.with_changes(slack_bot_token=token)
    monkeypatch.setenv("SLACK_BOT_TOKEN", token)
    monkeypatch.setenv("INNOCENT_NAME", token)  # a secret's value under a harmless name
    monkeypatch.setenv("DEPLOY_PASSWORD", "hunter2-hunter2")
    config = parse_config(
        "checks:\n"
        "  - {name: env, run: 'env | grep -c -e xoxb -e hunter2 || true'}\n"
        f"  - {{name: echo, run: 'echo leaked {token}'}}\n"
    )
    report, _ = run(runner(settings, sandboxed), workdir(tmp_path), config)
    assert report.results[0].output == "0"
    assert token not in report.results[1].output
    assert report.results[1].output == "leaked xoxb-****mnop"


@needs_bwrap
def test_checks_cannot_reach_the_data_dir_or_the_shared_caches(
    settings: Settings, tmp_path: Path
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "secret-session.txt").write_text("other session")
    config = parse_config(
        "setup: 'touch \"$PIP_CACHE_DIR/from-setup\"'\n"
        "checks:\n"
        f"  - {{name: peek, run: 'ls {settings.data_dir} | wc -l; echo \"[$PIP_CACHE_DIR]\"'}}\n"
    )
    report, _ = run(runner(settings, True), workdir(tmp_path), config)
    assert report.setup is not None and report.setup.status is CheckStatus.PASSED
    assert report.results[0].output.splitlines() == ["0", "[]"]
    assert (settings.caches_dir / "repo-1" / "pip" / "from-setup").exists()


def test_cancel_stops_the_running_check_and_the_rest(settings: Settings, tmp_path: Path) -> None:
    config = parse_config(
        "checks:\n"
        "  - {name: first, run: 'echo started; sleep 30'}\n"
        "  - {name: second, run: 'true'}\n"
    )
    control = RunControl(60)
    started = threading.Event()

    def emit(event: CheckStarted | CheckResult) -> None:
        if isinstance(event, CheckStarted):
            started.set()

    timer = threading.Thread(target=lambda: started.wait(10) and control.cancel("stop"))
    timer.start()
    report = runner(settings, False).run(
        workdir(tmp_path), config, control, commit="c", changed=None, emit=emit
    )
    timer.join()
    assert [r.status for r in report.results] == [CheckStatus.CANCELLED, CheckStatus.CANCELLED]
    assert report.results[0].duration < 10
    assert not report.passed


def test_a_broken_progress_callback_never_fails_the_checks(
    settings: Settings, tmp_path: Path
) -> None:
    def emit(event: CheckStarted | CheckResult) -> None:
        raise RuntimeError("the thread is gone")

    config = parse_config("checks:\n  - {name: unit, run: 'true'}\n")
    report = runner(settings, False).run(
        workdir(tmp_path), config, RunControl(60), commit="c", emit=emit
    )
    assert report.passed


def test_setup_runs_once_per_workdir_until_a_lockfile_changes(
    settings: Settings, tmp_path: Path
) -> None:
    config = parse_config(
        "setup:\n  - mkdir -p .venv && echo installing >> .venv/setup.log\n"
        "  - touch .venv/python\n"
        "checks:\n  - {name: unit, run: 'test -f .venv/python'}\n"
    )
    checks = runner(settings, False)
    work = workdir(tmp_path, files={"app.py": "", "requirements.txt": "six==1.0\n"})
    first, _ = run(checks, work, config)
    assert first.setup is not None and first.setup.status is CheckStatus.PASSED
    assert (
        first.setup.output.splitlines()[0]
        == "$ mkdir -p .venv && echo installing >> .venv/setup.log"
    )
    assert not first.setup_cached and first.passed
    second, seen = run(checks, work, config)
    assert second.setup is None and second.setup_cached
    assert [e.name for e in seen] == ["unit", "unit"]
    assert (work / ".venv/setup.log").read_text() == "installing\n"
    # The folders the setup made stay out of the agent's commits.
    assert git("status", "--porcelain", cwd=work) == ""
    assert (work / MARKER).exists()
    (work / "requirements.txt").write_text("six==1.1\n")
    third, _ = run(checks, work, config)
    assert third.setup is not None and not third.setup_cached
    assert (work / ".venv/setup.log").read_text() == "installing\ninstalling\n"


def test_a_failed_setup_blocks_the_checks_and_is_tried_again(
    settings: Settings, tmp_path: Path
) -> None:
    config = parse_config(
        "setup:\n  - echo fetching\n  - test -f ok || (echo 'no network' >&2; exit 7)\n"
        "checks:\n  - {name: unit, run: 'true'}\n  - {name: lint, run: 'true', required: false}\n"
    )
    checks, work = runner(settings, False), workdir(tmp_path)
    report, _ = run(checks, work, config)
    assert report.setup is not None and report.setup.status is CheckStatus.FAILED
    assert report.setup.reason == "`test -f ok || (echo 'no network' >&2; exit 7)` did not pass"
    assert report.setup.exit_code == 7 and report.setup.tail.endswith("no network")
    assert [r.status for r in report.results] == [CheckStatus.ERROR, CheckStatus.ERROR]
    assert report.results[0].reason == "the setup did not pass"
    assert report.verdicts()[0].startswith("❌ setup failed (exit 7")
    (work / "ok").write_text("")
    report, _ = run(checks, work, config)
    assert report.setup is not None and report.setup.status is CheckStatus.PASSED
    assert report.passed


@pytest.mark.parametrize("sandboxed", WHERE)
def test_the_package_cache_is_shared_by_the_repositorys_workdirs(
    settings: Settings, tmp_path: Path, sandboxed: bool
) -> None:
    setup = (
        'if [ -f "$PIP_CACHE_DIR/pkg.whl" ]; then echo cache warm; '
        'else echo cache cold; echo wheel > "$PIP_CACHE_DIR/pkg.whl"; fi'
    )
    config = ChecksConfig(setup=(setup,))
    first, _ = run(runner(settings, sandboxed), workdir(tmp_path, "one"), config)
    second, _ = run(runner(settings, sandboxed), workdir(tmp_path, "two"), config)
    other, _ = run(runner(settings, sandboxed, "repo-2"), workdir(tmp_path, "three"), config)
    assert first.setup is not None and first.setup.tail.endswith("cache cold")
    assert second.setup is not None and second.setup.tail.endswith("cache warm")
    assert other.setup is not None and other.setup.tail.endswith("cache cold")  # per repository
    assert sorted(os.listdir(settings.caches_dir)) == ["repo-1", "repo-2"]


def test_a_setup_that_writes_its_own_lockfile_is_still_done_once(
    settings: Settings, tmp_path: Path
) -> None:
    config = ChecksConfig(setup=("echo run >> setup.log; echo '{}' > package-lock.json",))
    checks, work = runner(settings, False), workdir(tmp_path, files={"package.json": "{}"})
    run(checks, work, config)
    second, _ = run(checks, work, config)
    assert second.setup_cached
    assert (work / "setup.log").read_text() == "run\n"
    # Files it made (a lock) are the agent's to commit or not; only folders are excluded.
    assert git("status", "--porcelain", cwd=work).splitlines() == [
        "?? package-lock.json",
        "?? setup.log",
    ]
