"""The egress allow-list's sandbox side: what bubblewrap adds so a command's only way out is
the proxy's socket (`bot.security.egress_proxy`), served on the sandbox's loopback by
`egress_forward`, which starts the command.

Enforced by the kernel: the command's network namespace holds only loopback, so a process
that ignores HTTPS_PROXY has no route anywhere; the proxy decides every host.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.security import egress_forward

INSIDE = Path("/run/repobox-egress")  # /run is an empty tmpfs in the sandbox
PORT = 3128
PROXY_NAMES = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY")


def forwarder(argv: Sequence[str], python: str = "python3") -> list[str]:
    """`argv` started by the in-sandbox forwarder (the system python runs it)."""
    inner = [python, str(INSIDE / "forward.py"), str(PORT), str(INSIDE / "proxy.sock"), "--"]
    return [*inner, *argv]


def egress_mounts(socket_path: Path) -> list[str]:
    """bwrap options that show the forwarder and the proxy's socket, and point every
    proxy variable at the forwarder; they go before `--chdir`."""
    proxy = f"http://127.0.0.1:{PORT}"
    extra = [
        "--dir", str(INSIDE),
        "--ro-bind", str(Path(egress_forward.__file__).resolve()), str(INSIDE / "forward.py"),
        "--bind", str(socket_path), str(INSIDE / "proxy.sock"),
    ]  # fmt: skip
    for name in PROXY_NAMES:
        extra += ["--setenv", name, proxy]
    return [*extra, "--unsetenv", "NO_PROXY", "--unsetenv", "no_proxy"]
