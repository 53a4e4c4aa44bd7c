"""The demo agent (`REPOBOX_AGENT=demo`): Repobox's whole flow with no account and no AI.

It reads the prompt with fixed rules (`bot.agents.demo_plan`) and carries them out through
the built-in agent's own tools (`bot.agents.tools.Toolbox`): the same confinement, the same
sandbox for its one command, and the same STEP and OUTPUT events, so Slack's streamed
reply, the live page and the CLI's watch show its steps as they show a model's. Its edits
are real, so checkpoints, checks, ship and undo work on them as on any run; it names
itself as a demo in its first line and in its summary (the commit's message).
"""

from __future__ import annotations

import re
import shlex
import uuid
from collections import Counter
from collections.abc import Generator, Iterator
from typing import assert_never

from bot.agents.base import Figures, RunRequest
from bot.agents.demo_plan import Action, Delete, DropLines, Replace, Write, clauses, plan
from bot.agents.tools import Toolbox, ToolCall, ToolOutcome, step_event
from bot.core.config import Settings
from bot.core.models import DEMO_LABEL
from bot.git.workdirs import FORK_SUFFIX
from bot.processes.control import RunControl
from bot.security.egress import confined, run_hosts
from bot.security.paths import PathRefused
from bot.security.sandbox import Sandbox
from bot.sessions.events import EventKind, ProgressEvent

INTRO = (
    "Demo agent (no AI): no model is called. I follow fixed rules on your words: "
    "`add …` writes a file, `remove …` deletes one (or the lines that mention it), "
    "`rename A to B` swaps a word, and anything else becomes a line in NOTES.md."
)
# How `fix the checks` and autofix hand failing checks over (bot.checks.results): no rule
# of the demo can fix those, and it says so rather than note the request in NOTES.md.
CHECKS_FAIL = "The required checks fail"
CANNOT_FIX = (
    "The demo agent (no AI) cannot fix failing checks: it only follows fixed rules on your "
    "words. `undo` takes the last prompt's changes back."
)
Steps = Generator[ProgressEvent, None, str | None]


class DemoAgent:
    name = "demo"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, request: RunRequest, control: RunControl) -> Iterator[ProgressEvent]:
        hosts = run_hosts(self.settings, extra=request.egress_hosts)
        with confined(self.settings, hosts) as sandbox:
            yield from self._run(request, control, sandbox)

    def _run(
        self, request: RunRequest, control: RunControl, sandbox: Sandbox | None
    ) -> Iterator[ProgressEvent]:
        variant = _variant(request.session.id)
        toolbox = Toolbox(self.settings, request.workdir, control, sandbox)
        yield ProgressEvent(
            EventKind.TEXT, INTRO + (f" (variant {variant})" if variant > 1 else "")
        )
        listed = yield from _call(toolbox, "list_files", {})
        files = frozenset(listed.content.splitlines()) if not listed.is_error else frozenset()
        if request.prompt.startswith(CHECKS_FAIL):
            yield ProgressEvent(EventKind.RESULT, CANNOT_FIX, data=dict(_figures()))
            return
        done: list[str] = []
        for action in plan(request.prompt, files, variant):
            if control.should_stop():
                return
            said = yield from _carry_out(toolbox, action)
            if said:
                done.append(said)
        if control.should_stop():
            return
        yield from _call(toolbox, "run", {"command": "git status --short", "timeout": 60})
        yield ProgressEvent(
            EventKind.RESULT, _summary(request.prompt, done, variant), data=dict(_figures())
        )


def _variant(session_id: str) -> int:
    """A comparison's candidate n runs in `<session>-candidate-n`: variant n; else 1."""
    match = re.search(re.escape(FORK_SUFFIX) + r"(\d+)$", session_id)
    return int(match.group(1)) if match else 1


def _call(
    toolbox: Toolbox, name: str, args: dict[str, object]
) -> Generator[ProgressEvent, None, ToolOutcome]:
    """One tool call, shown as the built-in agent shows it: its output, then its step."""
    outcome = yield from toolbox.call(ToolCall(uuid.uuid4().hex, name, args))
    yield step_event(outcome)
    return outcome


def _carry_out(toolbox: Toolbox, action: Action) -> Steps:
    """Do one action with the tools; what it did, in a few words (None: nothing)."""
    match action:
        case Write(path, text, line):
            return (yield from _write(toolbox, path, text, line))
        case Delete(path):
            return (yield from _delete(toolbox, path))
        case DropLines(word):
            return (yield from _rewrite(toolbox, word, None))
        case Replace(old, new):
            return (yield from _rewrite(toolbox, old, new))
        case _:
            assert_never(action)


def _write(toolbox: Toolbox, path: str, text: str, line: str) -> Steps:
    current = _text_of(toolbox, path)
    if current is None:
        wrote = yield from _call(toolbox, "write_file", {"path": path, "content": text})
        return None if wrote.is_error else f"created {path}"
    yield from _call(toolbox, "read_file", {"path": path})
    joined = current if not current or current.endswith("\n") else current + "\n"
    wrote = yield from _call(toolbox, "write_file", {"path": path, "content": f"{joined}{line}\n"})
    return None if wrote.is_error else f"added a line to {path}"


def _delete(toolbox: Toolbox, path: str) -> Steps:
    """`rm` in the sandbox, after the same path checks as the file tools (`--`: never an
    option, whatever the prompt said)."""
    try:
        toolbox.files.jail.resolve(path, allow_root=False)
    except PathRefused as refused:
        yield ProgressEvent(EventKind.WARNING, f"remove {path} ✗ {refused}")
        return None
    ran = yield from _call(toolbox, "run", {"command": f"rm -f -- {shlex.quote(path)}"})
    return f"removed {path}" if ran.content.startswith("exit code 0\n") else None


def _rewrite(toolbox: Toolbox, word: str, new: str | None) -> Steps:
    """Drop the lines that mention `word` (`new` None), or put `new` in its place, in every
    file the search finds."""
    pattern = rf"(?i)\b{re.escape(word)}\b"
    found = yield from _call(toolbox, "search", {"pattern": pattern})
    paths = sorted({hit.split(":", 1)[0] for hit in found.content.splitlines() if ":" in hit})
    changed = 0
    for path in paths if not found.is_error else []:
        current = _text_of(toolbox, path)
        if current is None:
            continue
        if new is None:
            kept = [ln for ln in current.splitlines(True) if not re.search(pattern, ln)]
            updated = "".join(kept)
        else:
            updated = re.sub(pattern, lambda m: _same_case(m.group(0), new), current)
        if updated != current:
            wrote = yield from _call(toolbox, "write_file", {"path": path, "content": updated})
            changed += not wrote.is_error
    if not changed:
        yield ProgressEvent(EventKind.INFO, f"Nothing in the repository mentions `{word}`.")
        return None
    where = f"{changed} file{'s' if changed != 1 else ''}"
    if new is None:
        return f"removed the lines that mention `{word}` from {where}"
    return f"replaced `{word}` with `{new}` in {where}"


def _text_of(toolbox: Toolbox, path: str) -> str | None:
    """A file's text as it is on disk (None: no such file, or one the tools refuse)."""
    try:
        target = toolbox.files.jail.resolve(path, allow_root=False)
        return target.read_text(encoding="utf-8") if target.is_file() else None
    except (PathRefused, OSError, UnicodeDecodeError):
        return None


def _same_case(found: str, new: str) -> str:
    if found.isupper():
        return new.upper()
    return new[:1].upper() + new[1:] if found[:1].isupper() else new


def _summary(prompt: str, done: list[str], variant: int) -> str:
    """The run's summary; its first sentence becomes the commit's subject."""
    who = "demo agent, no AI" if variant == 1 else f"demo agent variant {variant}, no AI"
    if done:
        said = _counted(done)
        what = ", ".join(said[:-1]) + (" and " if len(said) > 1 else "") + said[-1]
        text = f"{what[:1].upper()}{what[1:]} ({who})."
    else:
        text = f"Changed nothing: no rule of the {DEMO_LABEL} matched these words."
    _read, more = clauses(prompt)
    if more:
        text += (
            f"\n\nThe demo reads only the first clauses of a prompt ({len(prompt):,} characters)."
        )
    return text


def _counted(done: list[str]) -> list[str]:
    """Each thing done once, in order: "added a line to X" three times is "added 3 lines"."""
    counts = Counter(done)
    said = []
    for phrase in dict.fromkeys(done):
        many = counts[phrase] > 1 and phrase.startswith("added a line to ")
        said.append(phrase.replace("a line", f"{counts[phrase]} lines", 1) if many else phrase)
    return said


def _figures() -> Figures:
    return {
        "turns": 0,
        "model": DEMO_LABEL,
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cost_usd": 0.0,
        "cost_known": True,
    }
