"""A run's cancel flag and deadline, shared between the job's heartbeat and what runs.

Agents, their tools and the repository's checks all stop through one `RunControl`; a
command gets a `CommandControl`, the run's control narrowed to that command's time limit.
"""

from __future__ import annotations

import threading
import time


class RunControl:
    """Cancel flag and deadline shared between the job's heartbeat and the agent."""

    def __init__(self, time_limit: float) -> None:
        self.cancel_event = threading.Event()
        self.deadline = time.monotonic() + time_limit
        self.time_limit = time_limit
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        self.reason = self.reason or reason
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    @property
    def expired(self) -> bool:
        return time.monotonic() > self.deadline

    @property
    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def should_stop(self) -> bool:
        return self.cancelled or self.expired


class CommandControl(RunControl):
    """The run's control narrowed to one command's time limit."""

    def __init__(self, parent: RunControl, timeout: float) -> None:
        super().__init__(min(timeout, parent.remaining))
        self.cancel_event = parent.cancel_event
        self.parent = parent

    def should_stop(self) -> bool:
        return self.expired or self.parent.should_stop()
