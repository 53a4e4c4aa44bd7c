"""Run a command under a guardian and stream its output line by line.

Every command an agent runs (the agent CLI, the built-in `run` tool) starts through
`bot/processes/guardian.py`, a small process that sits between us and the command. Why not a
process-group kill, as before: Claude Code runs each Bash command with `setsid`, and any
daemon can double-fork, so a group misses them; and a group kill needs its owner alive,
while RQ's work horse can be SIGKILLed (no `finally` runs). The guardian is a child
subreaper, so everything the command starts stays its descendant, and it ends that whole
tree when:

- `kill()` is called (cancel, time-out; `lines()` calls it when `control` says stop):
  SIGTERM to every descendant, SIGKILL after `GRACE` seconds;
- the command exits: whatever it left running is killed at once;
- the owning process dies in any way, SIGKILL included: the guardian's lifeline pipe
  (its write end is held only by this object) reads EOF, and the tree is ended as for
  `kill()`. Guarantee: within `GRACE` + 0.1 s of the owner's death no process of the tree
  is left (about 1.6 s). Dropping the `StreamedProcess` without reading it does the same.

In the sandbox the same holds: the guardian wraps `bwrap`, which sees its pid namespace's
processes as descendants, and bwrap's own `--unshare-pid --die-with-parent` ends the
namespace if bwrap itself is killed first.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from bot.processes.control import RunControl

MAX_LINE = 16 * 1024 * 1024  # a safety cap on one line, far above any real stream-json line
SHOWN_LINE = 8_000  # what people (and the built-in agent's model) see of one line
GRACE = 1.5  # seconds between SIGTERM and SIGKILL for the command's tree
GUARDIAN = Path(__file__).with_name("guardian.py")


class StreamedProcess:
    """One command under its guardian; `pid`/`pgid` are the guardian's (its own session)."""

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        stdin_text: str | None = None,
    ) -> None:
        lifeline_read, lifeline_write = os.pipe()
        ready_read, ready_write = os.pipe()
        stdin = _in_memory(stdin_text) if stdin_text is not None else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-S",
                    str(GUARDIAN),
                    str(lifeline_read),
                    str(ready_write),
                    str(GRACE),
                    "--",
                    *argv,
                ],
                cwd=cwd,
                env=dict(env),
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=(lifeline_read, ready_write),
            )
        finally:
            os.close(lifeline_read)
            os.close(ready_write)
            if stdin_text is not None:
                os.close(stdin)
        # Only this object holds the write end: when it (or the whole process) goes, the
        # guardian reads EOF and ends the tree.
        self._lifeline = open(lifeline_write, "wb", buffering=0)  # noqa: SIM115 - held open
        self.pid = self.pgid = self.process.pid
        self._await_start(ready_read)

    def _await_start(self, ready: int) -> None:
        """Raise `OSError` as Popen would when the command cannot be started."""
        with os.fdopen(ready, "rb") as answer:
            said = answer.read().decode().strip()
        if said == "0":
            return
        self.process.wait()
        self._close()
        code = int(said) if said.isdigit() else 0
        if code:
            raise OSError(code, os.strerror(code))
        raise OSError(f"the process guardian failed to start (exit {self.process.returncode})")

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def lines(self, control: RunControl) -> Iterator[tuple[str, str]]:
        """Yield (stream, whole line) until the command ends or `control` says stop (then
        kill it). Lines are never cut (a stream-json line holds a whole file read); one
        longer than `MAX_LINE` kills the command and raises `LineTooLong`."""
        assert self.process.stdout is not None and self.process.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ, "stdout")
        selector.register(self.process.stderr, selectors.EVENT_READ, "stderr")
        try:
            yield from self._read(selector, control)
            while self.process.poll() is None:
                if control.should_stop():
                    self.kill()
                    return
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=0.05)  # wakes as soon as it exits
        finally:
            selector.close()
            if self.process.poll() is None:
                self.kill()
            self._close()

    def _read(
        self, selector: selectors.BaseSelector, control: RunControl
    ) -> Iterator[tuple[str, str]]:
        """The lines of both pipes as they come, until both close (or `control` says stop,
        and the command is killed)."""
        pending = {"stdout": bytearray(), "stderr": bytearray()}
        while selector.get_map():
            if control.should_stop():
                self.kill()
                return
            for key, _ in selector.select(timeout=0.1):
                name = str(key.data)
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    if pending[name]:
                        yield name, _decode(bytes(pending[name]))
                    continue
                complete, pending[name] = _split(pending[name], chunk)
                for line in complete:
                    yield name, line
                if len(pending[name]) > MAX_LINE:
                    self.kill()
                    raise LineTooLong(name)

    def kill(self) -> None:
        """End the command and everything it started: SIGTERM, then SIGKILL after `GRACE`.

        Returns once the guardian has exited, which it does only when the tree is gone.
        """
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=GRACE + 5.0)
        except subprocess.TimeoutExpired:  # the guardian is stuck: at least end its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, signal.SIGKILL)
            self.process.wait()

    def _close(self) -> None:
        for stream in (self.process.stdout, self.process.stderr, self.process.stdin):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(OSError):
            self._lifeline.close()


class LineTooLong(Exception):
    """The command printed a line over `MAX_LINE` bytes; it has been killed."""

    def __init__(self, stream: str) -> None:
        super().__init__(f"a line on {stream} grew past {MAX_LINE // (1024 * 1024)} MB")
        self.stream = stream


def shown(text: str, limit: int = SHOWN_LINE) -> str:
    """A line as people see it: whole when short, else its start and a mark."""
    return text if len(text) <= limit else text[:limit] + " …"


def _in_memory(text: str) -> int:
    """`text` as a file in memory (a memfd) to give a command as its stdin.

    Not a pipe: a pipe holds 64 KiB, so a longer prompt would block us until the command
    read it, and a command that never reads stdin would hang the run. Not a file on disk:
    what a person typed stays off the worker's disk. The command reads it as a regular
    file, and `/dev/stdin` opens it again from the start."""
    fd = os.memfd_create("repobox-stdin", os.MFD_CLOEXEC)
    data = text.encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _split(pending: bytearray, chunk: bytes) -> tuple[list[str], bytearray]:
    """The lines `chunk` completes, and the start of the next one (still unfinished)."""
    head, *rest = chunk.split(b"\n")
    pending += head  # linear: a long line is never copied again
    if not rest:
        return [], pending
    *complete, tail = rest
    return [_decode(bytes(pending)), *(_decode(raw) for raw in complete)], bytearray(tail)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r")
