"""A tiny process between Repobox and a command it runs, so nothing the command starts outlives it.

Run as a script (`python -I guardian.py LIFELINE READY GRACE -- argv…`), stdlib only, so it
starts fast and never imports Repobox. It

- becomes a child subreaper (`PR_SET_CHILD_SUBREAPER`): every process the command starts
  stays below it, even one that double-forks or calls `setsid` (Claude Code runs each Bash
  command that way), because orphans reparent to the nearest subreaper, not to init;
- watches a lifeline pipe whose only write end its owner holds: the kernel closes it when
  the owner dies in any way, SIGKILL included, and the guardian reads EOF. (A pipe rather
  than `PR_SET_PDEATHSIG`, which fires when the *thread* that forked us ends, and would
  misfire if the owner started us from a short-lived thread.);
- on SIGTERM from its owner (cancel, time-out), on the lifeline's EOF, or when the command
  itself exits, ends every descendant: the list comes from walking `/proc` for processes
  whose parent chain leads here, they get SIGTERM, and after a grace whatever is left gets
  SIGKILL, again and again until none is left (a fork mid-kill is caught on the next pass).

The guardian exits with the command's exit code (128 + signal number when a signal ended
it). It tells its owner through the READY pipe whether the command could be started: `0`,
or the errno of the failed exec, so a missing program is still an `OSError` in the owner.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
POLL_SECONDS = 1.0  # a safety net: signals wake us at once
EXEC_FAILED = 127


def _subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _parents() -> dict[int, int]:
    """pid → parent pid for every process we can see now."""
    found: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        found[int(name)] = int(fields[1])
    return found


def descendants(root: int) -> list[int]:
    """Every live process whose parent chain leads to `root` (zombies included)."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found: list[int] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


class Guardian:
    def __init__(self, lifeline: int, wakeup: int, grace: float) -> None:
        self.lifeline = lifeline
        self.wakeup = wakeup  # readable when a signal (SIGCHLD, SIGTERM) arrived
        self.grace = grace
        self.me = os.getpid()
        self.child = 0
        self.status: int | None = None
        self.asked_to_stop = False

    def start(self, argv: list[str], ready: int) -> bool:
        try:
            self.child = os.posix_spawnp(
                argv[0],
                argv,
                os.environ,
                setsigdef=(signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTERM, signal.SIGINT),
                setsigmask=(),
            )
        except OSError as error:
            os.write(ready, str(error.errno or 1).encode())
            os.close(ready)
            return False
        os.write(ready, b"0")
        os.close(ready)
        return True

    def reap(self) -> None:
        """Collect every exited child (orphans land here too); note the command's status."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.child:
                self.status = status

    def watch(self) -> None:
        """Wait until the command exits, the owner asks us to stop, or the owner dies."""
        while self.status is None and not self.asked_to_stop:
            readable, _, _ = select.select([self.lifeline, self.wakeup], [], [], POLL_SECONDS)
            if self.lifeline in readable and not os.read(self.lifeline, 1):
                return  # EOF: the owner is gone
            if self.wakeup in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wakeup, 512)
            self.reap()

    def end_all(self, grace: float) -> None:
        """SIGTERM every descendant, then SIGKILL until there are none left."""
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and self._alive():
            time.sleep(0.02)
            self.reap()
        while self._alive():
            self._signal_all(signal.SIGKILL)
            time.sleep(0.01)
            self.reap()

    def _alive(self) -> list[int]:
        self.reap()
        return descendants(self.me)

    def _signal_all(self, sig: signal.Signals) -> None:
        for pid in descendants(self.me):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    def exit_code(self) -> int:
        if self.status is None:
            return 128 + signal.SIGTERM
        if os.WIFSIGNALED(self.status):
            return 128 + os.WTERMSIG(self.status)
        return os.waitstatus_to_exitcode(self.status)


def main(args: list[str]) -> int:
    lifeline, ready, grace = int(args[0]), int(args[1]), float(args[2])
    argv = args[4:]  # args[3] is "--"
    for fd in (lifeline, ready):
        os.set_inheritable(fd, False)  # the command must not hold the owner's pipes
    wakeup, wakeup_write = os.pipe()
    os.set_blocking(wakeup, False)
    os.set_blocking(wakeup_write, False)
    signal.set_wakeup_fd(wakeup_write)
    guardian = Guardian(lifeline, wakeup, grace)

    def stop(signum: int, frame: object) -> None:
        guardian.asked_to_stop = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # only to wake select()
    _subreaper()
    if not guardian.start(argv, ready):
        return EXEC_FAILED
    guardian.watch()
    finished = guardian.status is not None
    # The command is done: leftovers (a server it started) go at once, as they would with
    # a process-group kill. Asked to stop, or orphaned: everyone gets the grace to clean up.
    guardian.end_all(0.0 if finished else guardian.grace)
    guardian.reap()
    return guardian.exit_code()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
