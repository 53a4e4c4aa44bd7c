"""One `python app.py` per data dir and per port.

A second instance on the same data dir would share the first's Valkey, add workers of its
own, crash-loop on the taken port and, on exit, delete the first's files. So `claim` takes
an exclusive `flock` on a file in the data dir for the life of the process, and checks the
port before anything starts; either failing is one line naming the first instance. The
kernel drops the lock when its holder dies, even by SIGKILL, so a stale file never blocks
a restart.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from bot.core.errors import UserError

LOCK_FILE = "app.lock"
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp


@dataclass
class Instance:
    """The held lock; `release` (or the process's end) lets the next instance start."""

    fd: int

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def claim(data_dir: Path, port: int) -> Instance:
    """Hold the data dir's lock and check that `port` is free, or say who has them."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by children
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(fd)
        if error.errno not in (errno.EWOULDBLOCK, errno.EACCES):
            raise
        raise UserError(f"Repobox is already running: {_holder(path, data_dir)}.") from None
    if not port_free(port):
        os.close(fd)
        raise UserError(
            f"Port {port} is already in use{_user_of(port)}.",
            hint="Stop it, or set REPOBOX_PORT to a free port.",
        )
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "port": port}).encode() + b"\n")
    return Instance(fd)


def _holder(path: Path, data_dir: Path) -> str:
    try:
        held = json.loads(path.read_text())
        pid, port = int(held["pid"]), int(held["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"another Repobox (`./dev run`) holds data dir {data_dir}"
    return f"pid {pid}, data dir {data_dir}, port {port}"


def port_free(port: int) -> bool:
    """Whether the web process could listen on `port` (as aiohttp does: all addresses)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _user_of(port: int) -> str:
    """ " by pid N (its command)" for the process listening on `port`, when Linux says."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                cols = row.split()
                if (
                    len(cols) > 9
                    and cols[3] == _LISTEN
                    and int(cols[1].rsplit(":", 1)[1], 16) == port
                ):
                    inodes.add(f"socket:[{cols[9]}]")
    if not inodes:
        return ""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return f" by {_describe(int(proc.name))}"
    return ""


def _command(pid: int) -> str:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def _describe(pid: int) -> str:
    """A web process of Repobox's is named by its supervisor, the `python app.py` to stop."""
    command = _command(pid)
    if command.endswith("app.py web"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            if "app.py" in _command(parent):
                return f"Repobox (pid {parent})"
    return f"pid {pid} ({command[:80]})"
