"""`python app.py` keeps what it starts alive, and stops it cleanly.

It runs the embedded Valkey (when REDIS_URL is unset), the workers and the web process as
children, restarts any that dies (with backoff, the Valkey on the same data), and exits
non-zero when one keeps dying, so systemd, Docker or Heroku restart the whole thing.

On SIGTERM or SIGINT it stops the web process and asks each worker for a warm shutdown:
a worker takes no new job, lets a running run finish within `REPOBOX_SHUTDOWN_GRACE`,
then hands the prompt back to the head of its queue (see jobs/worker/process.py). The
terminal is told what the stop waits for, and a second Ctrl-C hands the runs back at once.
Whatever is still alive after the grace and a margin is killed, the Valkey last (it runs
in a session of its own, so a terminal's Ctrl-C never reaches it), so nothing is left.

When a worker dies while Repobox runs, the `Fleet` hands its runs on at once, so the
person hears of it in a second rather than when the run's lock expires.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Protocol

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
STOP_MARGIN = 15.0  # after the grace: a handed-back run stops within this, else it is killed
BACKOFF_MAX = 30.0
GIVE_UP_AFTER = 5  # restarts of one child within RESTART_WINDOW
RESTART_WINDOW = 120.0


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send `sig` to this process when its parent dies (no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)


class Database(Protocol):
    def alive(self) -> bool: ...
    def restart(self) -> str: ...
    def stop(self) -> None: ...


class Fleet(Protocol):
    """The runs the workers (by pid) hold, through Redis (jobs/worker/fleet.py)."""

    def runs(self, workers: list[int]) -> int: ...
    def hand_back_now(self, workers: list[int]) -> int: ...
    def worker_died(self, worker: int) -> list[str]: ...


def say(line: str) -> None:
    """A line for the person at the terminal (not a log record)."""
    print(line, flush=True)


def _runs(count: int) -> str:
    return f"{count} run" if count == 1 else f"{count} runs"


@dataclass
class Child:
    """One supervised process: started in its own session, told to stop if we die."""

    name: str
    argv: Sequence[str]
    env: dict[str, str]
    worker: bool = False
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)
    next_start: float = 0.0

    def start(self) -> None:
        self.process = subprocess.Popen(
            list(self.argv),
            env=self.env,
            start_new_session=True,
            preexec_fn=lambda: die_with_parent(signal.SIGTERM),  # noqa: PLW1509 - no threads yet
        )
        log.info("started %s (pid %d)", self.name, self.process.pid)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        """SIGTERM to the process itself (a worker then stops warm); SIGKILL to its group."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            if sig == signal.SIGKILL:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)


class GaveUp(Exception):
    """A child kept dying: exit non-zero so an outer supervisor restarts everything."""


class Supervisor:
    def __init__(
        self,
        children: list[Child],
        database: Database | None,
        *,
        grace: float,
        tick: float = 0.5,
        backoff: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        fleet: Fleet | None = None,
    ) -> None:
        """`backoff` scales the restart delays (1 s, 2 s, 4 s … up to 30 s)."""
        self.children = children
        self.database = database
        self.fleet = fleet
        self.hurry = False
        self.grace = grace
        self.tick = tick
        self.backoff = backoff
        self.clock = clock
        self.stopping = False
        self._database_restarts: list[float] = []

    def run(self) -> int:
        """Supervise until SIGTERM/SIGINT (exit 0) or until something keeps dying (exit 1)."""
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGINT, self._request_stop)
        for child in self.children:
            child.start()
        code = 0
        try:
            while not self.stopping:
                self._check_database()
                for child in self.children:
                    self._check(child)
                time.sleep(self.tick)
        except GaveUp as error:
            log.error("giving up: %s; exiting so the service manager restarts Repobox", error)
            code = 1
        self.shutdown()
        return code

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        del frame
        log.info("got %s: stopping", signal.Signals(signum).name)
        self.stopping = True

    def _check(self, child: Child) -> None:
        if child.alive():
            return
        now = self.clock()
        if child.next_start == 0.0:
            child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW]
            if len(child.restarts) >= GIVE_UP_AFTER:
                raise GaveUp(f"{child.name} died {len(child.restarts) + 1} times")
            delay = self.backoff * (
                min(BACKOFF_MAX, 2.0 ** len(child.restarts)) if child.restarts else 0.5
            )
            code = child.process.returncode if child.process else None
            log.warning("%s exited (code %s); restarting in %.1fs", child.name, code, delay)
            child.next_start = now + delay
            if child.worker and child.process is not None:
                self._worker_died(child.process.pid)
        if now >= child.next_start:
            child.restarts.append(now)
            child.next_start = 0.0
            child.start()

    def _worker_died(self, pid: int) -> None:
        """Its runs are lost: hand them on now (the watchdog would, once their locks expire)."""
        if self.fleet is None:
            return
        try:
            self.fleet.worker_died(pid)
        except Exception:
            log.warning("could not hand on the runs of the dead worker %d yet", pid, exc_info=True)

    def _workers(self) -> list[int]:
        return [c.process.pid for c in self.children if c.worker and c.alive() and c.process]

    def _fleet_call(self, call: Callable[[Fleet, list[int]], int]) -> int:
        if self.fleet is None:
            return 0
        try:
            return call(self.fleet, self._workers())
        except Exception:  # Redis is away: the workers hand back by themselves after the grace
            log.debug("asking the workers' runs failed", exc_info=True)
            return 0

    def _hurry(self, signum: int, frame: FrameType | None) -> None:
        del signum, frame
        self.hurry = True

    def _check_database(self) -> None:
        if self.database is None or self.database.alive():
            return
        now = self.clock()
        self._database_restarts = [t for t in self._database_restarts if now - t < RESTART_WINDOW]
        if len(self._database_restarts) >= GIVE_UP_AFTER:
            raise GaveUp("the embedded Valkey could not be kept running")
        self._database_restarts.append(now)
        log.warning("the embedded Valkey is not answering; restarting it on the same data")
        try:
            self.database.restart()
        except Exception:
            log.exception("restarting the embedded Valkey failed")
            time.sleep(self.backoff * min(BACKOFF_MAX, 2.0 ** len(self._database_restarts)))

    def shutdown(self) -> None:
        """Web first, workers warm (grace, then hand back), stragglers killed, Valkey last."""
        signal.signal(signal.SIGTERM, self._hurry)
        signal.signal(signal.SIGINT, self._hurry)
        for child in self.children:
            child.signal(signal.SIGTERM)
        runs = self._fleet_call(lambda fleet, workers: fleet.runs(workers))
        if runs:
            it = "it" if runs == 1 else "them"
            say(
                f"waiting up to {self.grace:.0f} s for {_runs(runs)} to finish; "
                f"press Ctrl-C again to hand {it} back now"
            )
        handed = False
        deadline = self.clock() + self.grace + STOP_MARGIN
        while any(c.alive() for c in self.children) and self.clock() < deadline:
            if self.hurry and not handed:
                handed = True
                asked = self._fleet_call(lambda fleet, workers: fleet.hand_back_now(workers))
                if asked:
                    say(f"handing {_runs(asked)} back now: they run again when Repobox restarts")
            # A group-wide SIGTERM (systemd's default KillMode) also reaches the Valkey:
            # bring it back so the workers can still hand their runs back.
            with contextlib.suppress(GaveUp):
                self._check_database()
            time.sleep(0.1)
        for child in self.children:
            if child.alive():
                log.warning("%s did not stop in time; killing it", child.name)
            child.signal(signal.SIGKILL)
            if child.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(timeout=5)
        if self.database is not None:
            with contextlib.suppress(Exception):
                self.database.stop()
