"""The checks on a real repository: a test broken, then fixed, by a run on the work branch.

Real git (a bare remote, a workdir on the work branch), real checkpoints, the real checks
runner in bubblewrap when it is usable (pytest and ruff from the test interpreter; see
tests/checks_repo.py for the fallback when the sandbox cannot see them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checks.config import ConfigInvalid
from bot.checks.reading import read_config
from bot.checks.results import CheckReport, CheckStatus
from bot.checks.runner import CheckRunner
from bot.core.config import Settings
from bot.git.checkpoints import checkpoint, diffstat
from bot.git.mirrors import repo_key
from bot.processes.control import RunControl
from bot.security.sandbox import probe, sandbox_for
from bot.sessions.session import Person
from tests.checks_repo import BROKEN_CALC, CALC, files
from tests.conftest import MakeRepo, git

ADA = Person("U1", "Ada", "ada@example.com")


needs_bwrap = pytest.mark.skipif(
    not probe().usable, reason=f"bubblewrap is not usable here: {probe().detail}"
)


@pytest.fixture(
    params=[
        pytest.param("off", id="bare"),
        pytest.param("require", id="sandbox", marks=needs_bwrap),
    ]
)
def sandboxed(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Bare, the test interpreter's pytest and ruff run; in bubblewrap, see checks_repo.py."""
    return settings.with_changes(sandbox=request.param)


def clone(bare: Path, where: Path) -> tuple[Path, str]:
    git("clone", "--quiet", str(bare), str(where))
    git("checkout", "--quiet", "-b", "repobox/1-calc", cwd=where)
    return where, git("rev-parse", "HEAD", cwd=where).strip()


def run_and_check(
    settings: Settings, bare: Path, work: Path, edits: dict[str, str], prompt: str
) -> CheckReport:
    """A scripted run (the edits), its checkpoint, then the checks from the base branch."""
    before = git("rev-parse", "HEAD", cwd=work).strip()
    for name, text in edits.items():
        (work / name).write_text(text)
    commit = checkpoint(work, prompt, ADA, "Repobox", "repobox@example.com")
    assert commit is not None
    changed = [f.path for f in diffstat(work, before, commit).files]
    config = read_config(bare, "main")
    runner = CheckRunner(settings, repo_key(str(bare)), sandbox_for(settings))
    return runner.run(work, config, RunControl(300), commit=commit, changed=changed)


def test_a_broken_test_fails_the_required_check_and_the_fix_passes_it(
    sandboxed: Settings, make_repo: MakeRepo, tmp_path: Path
) -> None:
    bare = make_repo(files=files(sandboxed, tmp_path / "work"))
    work, _ = clone(bare, tmp_path / "work")
    loosened = "checks:\n  - {name: tests, run: 'true'}\n"  # the agent tries to drop its gate
    broken = run_and_check(
        sandboxed, bare, work, {"calc.py": BROKEN_CALC, ".repobox.yml": loosened}, "break"
    )
    assert [(r.name, r.status) for r in broken.results] == [
        ("tests", CheckStatus.FAILED),
        ("lint", CheckStatus.PASSED),
    ]
    assert broken.setup is not None and broken.setup.status is CheckStatus.PASSED
    assert [r.name for r in broken.blocking] == ["tests"]
    assert "5" in broken.results[0].tail and "-1" in broken.results[0].tail  # 2 - 3 != 5
    assert broken.verdicts()[0].startswith("❌ tests failed (exit 1, ")
    assert broken.source.startswith("main@")

    fixed = run_and_check(sandboxed, bare, work, {"calc.py": CALC}, "fix the checks")
    assert fixed.passed
    assert [r.status for r in fixed.results] == [CheckStatus.PASSED, CheckStatus.PASSED]
    assert fixed.setup is None and fixed.setup_cached  # once per workdir

    docs = run_and_check(sandboxed, bare, work, {"README.md": "# calc\n\nAdds.\n"}, "docs")
    assert [r.status for r in docs.results] == [CheckStatus.PASSED, CheckStatus.SKIPPED]
    assert docs.verdicts()[1] == "⏭️ lint skipped: no changed file matches **/*.py · optional"
    # Nothing the checks or the setup left behind is in the agent's commits.
    assert git("status", "--porcelain", cwd=work) == ""
    assert ".deps" not in git("ls-files", cwd=work)


def test_a_second_session_reuses_the_setup_cache(
    sandboxed: Settings, make_repo: MakeRepo, tmp_path: Path
) -> None:
    bare = make_repo(files=files(sandboxed, tmp_path / "one"))
    first, _ = clone(bare, tmp_path / "one")
    second, _ = clone(bare, tmp_path / "two")
    one = run_and_check(sandboxed, bare, first, {"calc.py": CALC + "\n"}, "touch")
    two = run_and_check(sandboxed, bare, second, {"calc.py": CALC + "\n"}, "touch")
    assert one.setup is not None and one.setup.tail.endswith("deps downloaded")
    assert two.setup is not None and two.setup.tail.endswith("deps from the cache")
    assert one.passed and two.passed


def test_an_invalid_file_on_the_base_branch_is_answered_clearly(
    sandboxed: Settings, make_repo: MakeRepo, tmp_path: Path
) -> None:
    good = files(sandboxed, tmp_path / "work")
    bad = good[".repobox.yml"].replace("timeout: 120", "timeout: two minutes")
    bare = make_repo(files={**good, ".repobox.yml": bad})
    with pytest.raises(ConfigInvalid) as caught:
        read_config(bare, "main")
    line = bad.splitlines().index("    timeout: two minutes") + 1
    assert caught.value.message == (
        "`.repobox.yml` on `main` is not valid, so no checks ran:\n"
        f"• line {line}, `checks[0].timeout`: expected seconds between 1 and 3600, "
        "got `two minutes`"
    )
