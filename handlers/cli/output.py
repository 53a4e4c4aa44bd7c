"""What the terminal shows for a status, a diff, a cancel and a progress event.

Plain lines on `out`, one fact each, so they read well in a terminal and in a pipe.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import TextIO

from bot.commands.executor import CancelReply
from bot.commands.service import Status
from bot.core.config import Settings
from bot.progress.lines import line_of
from bot.security.links import session_link
from bot.sessions.events import ProgressEvent
from bot.sessions.prompts import Action, PromptState


def print_status(settings: Settings, status: Status, out: TextIO) -> None:
    s = status.session
    print(f"session {s.id}  {s.state.value}", file=out)
    print(f"  repository  {s.project} ({s.repo_kind})", file=out)
    print(f"  branch      {s.work_branch} from {s.base_branch or '?'}", file=out)
    print(f"  started by  {s.created_by.name}", file=out)
    print(f"  model       {status.model}", file=out)
    print(f"  live log    {session_link(settings, s.id)}", file=out)
    if s.merge_request:
        print(f"  merge req.  {s.merge_request.url}", file=out)
    if s.error:
        print(f"  error       {s.error}", file=out)
    for p in status.history:
        what = p.text.splitlines()[0][:70]
        what = f"compare {','.join(p.candidates)}: {what}" if p.action is Action.COMPARE else what
        line = f"  {p.seq:>3}. [{p.state.value}] {what}"
        print(line, file=out)
        if p.state is PromptState.FAILED and p.error:
            print(f"       why: {_first_line(p.error)}", file=out)


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else f"{line[: limit - 1]}…"


def print_diff(diff: Mapping[str, object], out: TextIO) -> None:
    """`SessionService.diff`: {"stat": {"summary": …} or None, "patch": …}."""
    stat = diff.get("stat")
    if not isinstance(stat, Mapping) or not stat:
        print("no changes yet", file=out)
        return
    print(stat["summary"], file=out)
    out.write(str(diff["patch"]))


def print_cancel(cancel: CancelReply, out: TextIO) -> None:
    result = cancel.cancelled
    if cancel.nothing:
        print("nothing to cancel: no prompt is running or waiting", file=out)
    if result.running is not None:
        print(f"cancelling prompt {result.running.seq} (its processes are being stopped)", file=out)
    if result.dropped:
        print(f"dropped {len(result.dropped)} waiting prompt(s)", file=out)


def print_event(event: ProgressEvent, out: TextIO) -> None:
    stamp = time.strftime("%H:%M:%S", time.localtime(event.at))
    line = line_of(event)
    label = "stderr" if line.stderr else event.kind.value
    text = f"{line.text}\n         {' · '.join(line.chips)}" if line.chips else line.text
    text = f"[{line.candidate}] {text}" if line.candidate else text
    print(f"{stamp} {label:<9} {text}", file=out, flush=True)


def closed_pipe(out: TextIO) -> int:
    """The reader of our output went away (`session list | head -3`): stop quietly.

    What is still buffered would fail again when Python flushes at exit, with a traceback,
    so the rest goes to /dev/null. 141 is what a shell reports for a pipe closed early."""
    if out is sys.stdout:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 141
