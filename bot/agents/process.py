"""Run a command in its own process group and stream its output line by line.

Cancel and timeout kill the whole group (the command and everything it started), which
is what makes `cancel` trustworthy for agents that spawn test runners and servers.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from bot.agents.base import RunControl

LINE_LIMIT = 8_000
KILL_GRACE = 2.0


class StreamedProcess:
    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        stdin_text: str | None = None,
    ) -> None:
        self.process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.pgid = self.process.pid
        if stdin_text is not None and self.process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.write(stdin_text.encode())
            self.process.stdin.close()

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def lines(self, control: RunControl) -> Iterator[tuple[str, str]]:
        """Yield (stream, line) until the command ends or `control` says stop (then kill it)."""
        assert self.process.stdout is not None and self.process.stderr is not None
        selector = selectors.DefaultSelector()
        pending = {"stdout": b"", "stderr": b""}
        selector.register(self.process.stdout, selectors.EVENT_READ, "stdout")
        selector.register(self.process.stderr, selectors.EVENT_READ, "stderr")
        try:
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
                            yield name, _decode(pending[name])
                            pending[name] = b""
                        continue
                    pending[name] += chunk
                    *complete, pending[name] = pending[name].split(b"\n")
                    for raw in complete:
                        yield name, _decode(raw)
                    if len(pending[name]) > LINE_LIMIT:
                        yield name, _decode(pending[name])
                        pending[name] = b""
            while self.process.poll() is None:
                if control.should_stop():
                    self.kill()
                    return
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=0.05)  # wakes as soon as it exits
        finally:
            selector.close()
            self._reap_group()

    def kill(self) -> None:
        """TERM the group, then KILL what is left after a short grace."""
        self._signal_group(signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE
        while self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        self._signal_group(signal.SIGKILL)
        self.process.wait()

    def _reap_group(self) -> None:
        """Leave nothing behind: children the command started in its group go too."""
        self._signal_group(signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)


def _decode(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").rstrip("\r")
    return text if len(text) <= LINE_LIMIT else text[:LINE_LIMIT] + " …"
