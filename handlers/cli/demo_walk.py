"""The demo's walk through one session, with the terminal's own commands.

Each step prints the command as a person types it (`./dev session …`) and runs exactly
that command (`app.py session …` in this environment), so what the demo shows is what
those commands show, and they can be typed again afterwards on the same Repobox.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from redis.exceptions import RedisError

from bot.core.config import Settings
from bot.core.errors import GitError, UserError
from bot.core.redisio import connect, locate
from bot.sessions.prompts import PromptQueue
from bot.sessions.session_store import SessionStore
from handlers.cli.demo_sample import branch_log

APP = Path(__file__).resolve().parents[2] / "app.py"
FIRST_PROMPT = "add a greeting"
STEP_TIMEOUT = 600.0
WIDTH = 88


def shown_path(path: Path) -> str:
    """A path as short as it can be typed from here."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Ran:
    code: int
    output: str


class Walk:
    def __init__(self, settings: Settings, sample: Path, out: TextIO) -> None:
        self.settings = settings
        self.sample = sample
        self.out = out
        self.env = {**os.environ, "REPOBOX_DATA_DIR": str(settings.data_dir)}

    def say(self, text: str) -> None:
        print(textwrap.fill(text, WIDTH), file=self.out, flush=True)

    def step(self, number: int, title: str, text: str) -> None:
        print(f"\n── {number}. {title} ──", file=self.out)
        self.say(text)

    def run(self) -> int:
        """Every step in order; 0 when each did what it should, else 1 (said why)."""
        try:
            self._walk()
        except UserError as error:
            print(f"\nThe demo stopped: {error}", file=self.out, flush=True)
            return 1
        return 0

    def _walk(self) -> None:
        sample = shown_path(self.sample)
        self.step(
            1,
            "Start a session with a prompt",
            "A session is one repository, one work branch and a working copy, taking prompts "
            "in order. The first prompt can come with `new`:",
        )
        started = self.cli("new", sample, FIRST_PROMPT, shown_args=[sample, FIRST_PROMPT])
        session_id = _session_id(started.output)
        self.step(
            2,
            "The live page",
            "Every session has a live page with the same log, for a browser (its link is "
            "signed and expires after 7 days):",
        )
        self.cli("log", session_id)
        self.step(
            3,
            "Follow the live log",
            "The agent's steps stream in as they happen, here as in Slack, GitLab or GitHub:",
        )
        self.cli("watch", session_id)
        self.step(
            4,
            "The checks",
            "After every prompt, Repobox commits a checkpoint and runs the checks the "
            "repository's .repobox.yml declares (read from the base branch, so the agent "
            "cannot change them). Here:",
        )
        self.say(self._checks(session_id))
        self.step(5, "The diff", "What the session changed so far, against its base branch:")
        self.cli("diff", session_id)
        self.step(
            6,
            "Ship it",
            "`ship it` pushes the work branch; on GitLab or GitHub it also opens the merge "
            "request. This sample is a plain git repository, so the branch is pushed to it:",
        )
        self.cli("ship", session_id)
        self._show_branch(session_id)
        self.step(
            7,
            "Undo",
            "`undo` takes back the last prompt's changes; once shipped, as a new commit that "
            "reverts them, pushed too (any text a chat thread takes works after "
            "`session prompt`):",
        )
        self.cli("prompt", session_id, "undo", "--watch")
        self.cli("diff", session_id)
        self._show_branch(session_id)
        self._farewell(session_id)

    def cli(self, command: str, *args: str, shown_args: list[str] | None = None) -> Ran:
        """`./dev session COMMAND …`, printed as typed, run, its output shown indented."""
        typed = " ".join(shlex.quote(a) for a in (shown_args or list(args)))
        print(f"$ ./dev session {command} {typed}".rstrip(), file=self.out, flush=True)
        ran = self._app("session", command, *args)
        if ran.code != 0:
            raise UserError(f"`./dev session {command}` ended with exit status {ran.code}.")
        return ran

    def _app(self, *args: str) -> Ran:
        process = subprocess.Popen(
            [sys.executable, str(APP), *args],
            env=self.env,
            cwd=Path.cwd(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            print(f"    {line.rstrip()}", file=self.out, flush=True)
        try:
            code = process.wait(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        return Ran(code, "".join(lines))

    def _checks(self, session_id: str) -> str:
        """The first prompt's check verdicts, read from Repobox's database."""
        try:
            history = PromptQueue(connect(locate(self.settings))).history(session_id)
        except RedisError as error:
            raise UserError(f"Repobox's database did not answer ({error}).") from None
        report = next(
            (p.result.check_report for p in history if p.result and p.result.check_report), None
        )
        if report is None:
            raise UserError("No checks ran after the first prompt.")
        verdicts = "; ".join(report.verdicts())
        return f"{verdicts}. A failing required check would stop `ship it` until it is fixed."

    def _show_branch(self, session_id: str) -> None:
        try:
            session = SessionStore(connect(locate(self.settings))).get(session_id)
            commits = branch_log(self.sample, session.work_branch)
        except (RedisError, GitError) as error:
            raise UserError(f"Could not read the sample's branch ({error}).") from None
        self.say(f"The sample repository now has `{session.work_branch}`, past main:")
        for commit in commits:
            print(f"    {commit}", file=self.out, flush=True)

    def _farewell(self, session_id: str) -> None:
        self.step(
            8,
            "Your turn",
            "The dashboard shows this session too; `./dev login` signs you in:",
        )
        self._app("login")
        self.say(
            f"More to try on this session, while Repobox runs: "
            f"`./dev session prompt {session_id} rename greet to welcome --watch`, "
            f"`./dev session compare {session_id} --models demo,demo add a farewell --watch`, "
            f"`./dev session status {session_id}`. With an Anthropic key, `./dev run` runs a "
            "real agent instead (see the README)."
        )


def _session_id(output: str) -> str:
    for line in output.splitlines():
        if line.startswith("session ") and " ready: " in line:
            return line.split()[1]
    raise UserError("`./dev session new` printed no session.")
