"""Inside the sandbox: serve the egress proxy's unix socket on 127.0.0.1, then run the
command (stdlib only: it runs under the system interpreter inside bubblewrap).

    python3 egress_forward.py PORT SOCKET -- command args…

The sandbox has its own network namespace, so 127.0.0.1 here is the sandbox's own
loopback; HTTPS_PROXY and HTTP_PROXY point at it. The command's exit status is this one's.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading


def _pipe(a: socket.socket, b: socket.socket) -> None:
    try:
        while chunk := a.recv(65536):
            b.sendall(chunk)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _serve(listener: socket.socket, path: str) -> None:
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(path)
        except OSError:
            client.close()
            continue
        threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()


def main(argv: list[str]) -> int:
    port, path, sep, *command = argv
    if sep != "--" or not command:
        print("usage: egress_forward.py PORT SOCKET -- command…", file=sys.stderr)
        return 2
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(port)))
    listener.listen(64)
    threading.Thread(target=_serve, args=(listener, path), daemon=True).start()
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
