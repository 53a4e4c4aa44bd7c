"""The sandbox's only way out: an allow-list HTTP(S) proxy on a unix socket.

With the egress allow-list on, an agent's command runs in bubblewrap with a network
namespace of its own (`--unshare-net`: only loopback), so the kernel refuses every
connection it tries to make itself. The one path out is this proxy's unix socket, bound
into the sandbox and served there on 127.0.0.1 by `egress_forward` (HTTPS_PROXY points at
it). The proxy accepts `CONNECT host:port` and plain `GET http://host/…` (one request per
connection) for the hosts allowed, and answers 403 for any other, remembering the host so
the run shows a warning step naming it. A process that ignores HTTPS_PROXY reaches nothing at all.
"""

from __future__ import annotations

import functools
import logging
import socket
import socketserver
import threading
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

HEAD_LIMIT = 64 * 1024  # bytes of request line and headers read before a refusal
CONNECT_TIMEOUT = 15.0
POLL = 0.05  # seconds: how soon `stop()` returns (the end of every run waits on it)


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """`host` is listed, or under a listed `.suffix` (`.pypi.org` allows `files.pypi.org`)."""
    name = host.strip().lower().rstrip(".")
    for entry in allowed:
        want = entry.strip().lower().rstrip(".")
        if want.startswith(".") and (name.endswith(want) or name == want[1:]):
            return True
        if name == want:
            return True
    return False


class EgressProxy:
    """One run's proxy: `start()` listens on `socket_path`; `refused` names the hosts
    turned away (each once, in order); `stop()` closes it."""

    def __init__(self, socket_path: Path, allowed: Iterable[str]) -> None:
        self.socket_path = socket_path
        self.allowed = tuple(allowed)
        self.refused: list[str] = []
        self._told = 0
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingUnixStreamServer | None = None

    def start(self) -> EgressProxy:
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy.serve(self.request)

        server = socketserver.ThreadingUnixStreamServer(str(self.socket_path), Handler)
        server.daemon_threads = True
        self._server = server
        serve = functools.partial(server.serve_forever, poll_interval=POLL)
        threading.Thread(target=serve, name="egress-proxy", daemon=True).start()
        return self

    def fresh(self) -> list[str]:
        """Hosts refused since the last call: each shows once per run as a warning step."""
        with self._lock:
            new = self.refused[self._told :]
            self._told = len(self.refused)
        return new

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self.socket_path.unlink(missing_ok=True)

    def __enter__(self) -> EgressProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def serve(self, client: socket.socket) -> None:
        head = _read_head(client)
        if head is None:
            return
        line, _, rest = head.partition(b"\r\n")
        parts = line.decode("latin-1").split()
        if len(parts) != 3:
            client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        method, target, version = parts
        host, port, forward = _destination(method, target, version, rest)
        if host is None:
            client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        if not host_allowed(host, self.allowed):
            with self._lock:
                if host not in self.refused:
                    self.refused.append(host)
            body = f"Repobox's sandbox does not allow {host}\n".encode()
            client.sendall(
                b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            return
        try:
            upstream = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        upstream.settimeout(None)
        with upstream:
            if forward is None:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                upstream.sendall(forward)
            _pipe(client, upstream)


def _read_head(client: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(4096)
        if not chunk or len(data) > HEAD_LIMIT:
            return None
        data += chunk
    return data


def _destination(
    method: str, target: str, version: str, rest: bytes
) -> tuple[str | None, int, bytes | None]:
    """Where the request goes, and for plain HTTP the bytes to send on (origin-form)."""
    if method.upper() == "CONNECT":
        host, _, port = target.rpartition(":")
        host = host.strip("[]")
        return (host or None, int(port) if port.isdigit() else 443, None)
    if not target.lower().startswith("http://"):
        return None, 0, None
    authority, slash, path = target[len("http://") :].partition("/")
    host, _, port = authority.rpartition(":") if ":" in authority else (authority, "", "80")
    line = f"{method} {slash}{path or ''} {version}\r\n".encode("latin-1")
    return (host or None, int(port) if port.isdigit() else 80, line + _closing(rest))


def _closing(rest: bytes) -> bytes:
    """The headers (and any body begun) with `Connection: close`: the connection is piped
    to one origin after the first request, so a client must not send a second one on it
    (it would arrive in proxy form, which an origin server does not route)."""
    head, _, body = rest.partition(b"\r\n\r\n")
    dropped = (b"connection:", b"proxy-connection:", b"keep-alive:")
    lines = [h for h in head.split(b"\r\n") if h and not h.lower().startswith(dropped)]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy both ways until either side closes."""

    def copy(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    other = threading.Thread(target=copy, args=(b, a), daemon=True)
    other.start()
    copy(a, b)
    other.join(timeout=30)
