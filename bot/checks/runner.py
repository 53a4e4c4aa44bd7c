"""Run a repository's setup and checks in a workdir, as confined as the agent's commands.

Each command runs under the process guardian (`bot.processes.streamed`), inside the sandbox
when there is one, with the agent's secret-free environment (`bot.security.environment`),
under its own time limit and the run's cancel. Results go to `emit` as they come, so a
caller can show each check as a step, and come back together as a `CheckReport`.

The setup runs once per workdir: a marker file (kept out of commits) remembers the hash
of the setup commands and the lockfiles, and the setup runs again only when they change.
Package managers' caches live under the data dir, one folder per repository, so a second
session's setup downloads nothing again. Only the setup may write them: the checks run
the work branch's code, which must not be able to plant packages for later sessions.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.checks.config import SETUP_TIMEOUT, Check, ChecksConfig
from bot.checks.paths import first_match
from bot.checks.results import (
    CheckReport,
    CheckResult,
    CheckStarted,
    CheckStatus,
    EgressRefused,
)
from bot.core.config import Settings
from bot.core.redaction import Redactor
from bot.git.runner import git
from bot.processes.control import CommandControl, RunControl
from bot.processes.output import CappedOutput
from bot.processes.streamed import LineTooLong, StreamedProcess, shown
from bot.security.environment import agent_environment
from bot.security.sandbox import Sandbox

log = logging.getLogger(__name__)

Emit = Callable[[CheckStarted | CheckResult | EgressRefused], None]
MARKER = ".repobox-setup"
TAIL_LINES = 15
TAIL_CHARS = 3_000
LOCKFILES = (
    "requirements*.txt",
    "requirements/*.txt",
    "constraints*.txt",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Gemfile.lock",
    "go.sum",
    "Cargo.lock",
    "composer.lock",
)
CACHES = {  # environment variable → folder under the repository's cache dir
    "PIP_CACHE_DIR": "pip",
    "UV_CACHE_DIR": "uv",
    "POETRY_CACHE_DIR": "poetry",
    "npm_config_cache": "npm",
    "YARN_CACHE_FOLDER": "yarn",
    "GOMODCACHE": "go/mod",
    "GOCACHE": "go/build",
    "XDG_CACHE_HOME": "xdg",
}


class CheckRunner:
    """Setup and checks for one repository (`repo_key`, as the mirror cache names it)."""

    def __init__(self, settings: Settings, repo_key: str, sandbox: Sandbox | None) -> None:
        self.settings = settings
        self.sandbox = sandbox
        self.cache_root = settings.caches_dir / repo_key
        self.redact = Redactor(settings.secret_values())

    def run(
        self,
        workdir: Path,
        config: ChecksConfig,
        control: RunControl,
        *,
        commit: str,
        changed: Sequence[str] | None = None,
        emit: Emit | None = None,
    ) -> CheckReport:
        """The setup (if this workdir needs it), then every check, in order.

        `changed` lists the files the run changed (None: unknown, so every check runs)."""
        setup, cached = self.ensure_setup(workdir, config, control, emit)
        results: list[CheckResult] = []
        for check in config.checks:
            result = self._check(workdir, check, control, changed, setup, emit)
            results.append(result)
        return CheckReport(commit, tuple(results), setup, cached, config.source)

    def ensure_setup(
        self, workdir: Path, config: ChecksConfig, control: RunControl, emit: Emit | None = None
    ) -> tuple[CheckResult | None, bool]:
        """(the setup's result, or None when there is none or it was done; was it cached?)"""
        if not config.setup:
            return None, False
        key = setup_key(workdir, config)
        marker = workdir / MARKER
        if marker.is_file() and marker.read_text().strip() == key:
            return None, True
        _exclude(workdir, MARKER)
        before = _untracked(workdir)
        _send(emit, CheckStarted("setup", setup=True))
        result = self._setup(workdir, config.setup, control)
        self._refusals("setup", emit)
        _send(emit, result)
        for path in sorted(_untracked(workdir) - before):
            if path.endswith("/"):  # a .venv or node_modules made here is not the agent's work
                _exclude(workdir, path)  # (a file, say a lock, is left for the agent to commit)
        if result.status is CheckStatus.PASSED:  # the key after it: `npm install` writes a lock
            marker.write_text(setup_key(workdir, config) + "\n")
        return result, False

    def _setup(self, workdir: Path, commands: Sequence[str], control: RunControl) -> CheckResult:
        own = CommandControl(control, SETUP_TIMEOUT)
        output = CappedOutput()
        started = time.monotonic()
        status: CheckStatus = CheckStatus.PASSED
        code: int | None = 0
        reason = ""
        for command in commands:
            output.add(f"$ {command}")
            status, code = self._execute(workdir, command, own, output, shared_caches=True)
            if status is not CheckStatus.PASSED:
                reason = f"`{_first_line(command)}` did not pass"
                break
        return self._result("setup", status, code, own, output, started, True, reason, True)

    def _check(
        self,
        workdir: Path,
        check: Check,
        control: RunControl,
        changed: Sequence[str] | None,
        setup: CheckResult | None,
        emit: Emit | None,
    ) -> CheckResult:
        if control.should_stop():
            result = CheckResult(check.name, CheckStatus.CANCELLED, check.required)
        elif setup is not None and not setup.status.ok:
            result = CheckResult(
                check.name, CheckStatus.ERROR, check.required, reason="the setup did not pass"
            )
        elif check.paths and changed is not None and first_match(check.paths, changed) is None:
            globs = ", ".join(check.paths)
            result = CheckResult(
                check.name,
                CheckStatus.SKIPPED,
                check.required,
                reason=f"no changed file matches {globs}",
            )
        else:
            _send(emit, CheckStarted(check.name))
            own = CommandControl(control, check.timeout)
            output = CappedOutput()
            started = time.monotonic()
            status, code = self._execute(workdir, check.run, own, output, shared_caches=False)
            result = self._result(
                check.name, status, code, own, output, started, check.required, "", False
            )
            self._refusals(check.name, emit)
        _send(emit, result)
        return result

    def _execute(
        self,
        workdir: Path,
        command: str,
        control: CommandControl,
        output: CappedOutput,
        *,
        shared_caches: bool,
    ) -> tuple[CheckStatus, int | None]:
        """Run one command to its end; its lines go into `output`."""
        argv = ["bash", "-c", command]
        caches = self._caches() if shared_caches else {}
        if self.sandbox is not None:
            argv = self.sandbox.wrap(argv, workdir, writable=[Path(p) for p in caches.values()])
        extra = {"CI": "1", "TERM": "dumb", "PAGER": "cat", "PYTHONDONTWRITEBYTECODE": "1"}
        env = agent_environment(self.settings, extra={**extra, **caches})
        try:
            process = StreamedProcess(argv, workdir, env)
        except OSError as error:
            output.add(f"could not start: {error.strerror or error}")
            return CheckStatus.ERROR, None
        try:
            for _, line in process.lines(control):
                output.add(self.redact(shown(line)))
        except LineTooLong as error:
            output.add(f"killed: {error}")
            return CheckStatus.FAILED, process.returncode
        if control.parent.should_stop():
            return CheckStatus.CANCELLED, None
        if control.expired:
            return CheckStatus.TIMED_OUT, None
        code = process.returncode
        return (CheckStatus.PASSED if code == 0 else CheckStatus.FAILED), code

    def _result(
        self,
        name: str,
        status: CheckStatus,
        code: int | None,
        control: CommandControl,
        output: CappedOutput,
        started: float,
        required: bool,
        reason: str,
        setup: bool,
    ) -> CheckResult:
        if status is CheckStatus.TIMED_OUT:
            reason = f"killed after {control.time_limit:.0f} s"
        text = output.text()
        return CheckResult(
            name=name,
            status=status,
            required=required,
            duration=round(time.monotonic() - started, 3),
            exit_code=code,
            tail=_tail(text),
            output=text,
            reason=reason,
            setup=setup,
        )

    def _refusals(self, name: str, emit: Emit | None) -> None:
        """Hosts the allow-list refused since the last look, each told once per run."""
        if self.sandbox is not None and self.sandbox.egress is not None:
            for host in self.sandbox.egress.fresh():
                _send(emit, EgressRefused(name, host))

    def _caches(self) -> dict[str, str]:
        found = {}
        for name, folder in CACHES.items():
            path = self.cache_root / folder
            path.mkdir(parents=True, exist_ok=True)
            found[name] = str(path.resolve())
        return found


def setup_key(workdir: Path, config: ChecksConfig) -> str:
    """The setup commands and every lockfile's content, hashed: the setup reruns when the
    agent changes a dependency, and only then."""
    digest = hashlib.sha256()
    digest.update("\0".join(config.setup).encode())
    files = sorted({p for pattern in LOCKFILES for p in workdir.glob(pattern) if p.is_file()})
    for path in files:
        digest.update(b"\0" + str(path.relative_to(workdir)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(str(workdir.resolve()).encode())  # a recycled workdir sets up again
    return digest.hexdigest()


def _first_line(command: str) -> str:
    line = command.strip().splitlines()[0] if command.strip() else ""
    return line if len(line) <= 60 else line[:59] + "…"


def _tail(text: str) -> str:
    lines = text.rstrip("\n").splitlines()[-TAIL_LINES:]
    tail = "\n".join(lines)
    return tail if len(tail) <= TAIL_CHARS else "…" + tail[-TAIL_CHARS:]


def _untracked(workdir: Path) -> set[str]:
    """Untracked paths as git shows them (a new folder is one entry, `.venv/`)."""
    out = git("status", "--porcelain", "-z", "--untracked-files=normal", cwd=workdir)
    return {entry[3:] for entry in out.split("\0") if entry.startswith("?? ")}


def _exclude(workdir: Path, path: str) -> None:
    """Keep `path` out of checkpoints without touching the repository's .gitignore."""
    info = Path(git("rev-parse", "--absolute-git-dir", cwd=workdir).strip()) / "info"
    info.mkdir(exist_ok=True)
    exclude = info / "exclude"
    line = "/" + path.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")
    current = exclude.read_text().splitlines() if exclude.exists() else []
    if line not in current:
        with exclude.open("a") as handle:
            handle.write(line + "\n")


def _send(emit: Emit | None, event: CheckStarted | CheckResult | EgressRefused) -> None:
    """A side channel: a failing callback never fails the checks."""
    if emit is None:
        return
    try:
        emit(event)
    except Exception:
        log.exception("check progress callback failed for %s", event.name)
