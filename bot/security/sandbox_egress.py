"""The egress allow-list's sandbox side: bubblewrap with no network of its own but the
proxy's socket (`bot.security.egress_proxy`), served on the sandbox's loopback by
`egress_forward`, which starts the command.

Enforced by the kernel: the command's network namespace holds only loopback, so a process
that ignores HTTPS_PROXY has no route anywhere; the proxy decides every host.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

from bot.security import egress_forward
from bot.security.sandbox import Sandbox

INSIDE = Path("/run/repobox-egress")  # /run is an empty tmpfs in the sandbox
PORT = 3128


def wrap_egress(
    sandbox: Sandbox,
    argv: Sequence[str],
    workdir: Path,
    socket_path: Path,
    writable: Sequence[Path] = (),
    python: str = "python3",
) -> list[str]:
    """bwrap's command line for `argv` with the allow-list proxy as the only way out."""
    closed = copy.copy(sandbox)
    closed.network = False  # --unshare-all without --share-net: a namespace of its own
    proxy = f"http://127.0.0.1:{PORT}"
    inner = [python, str(INSIDE / "forward.py"), str(PORT), str(INSIDE / "proxy.sock"), "--"]
    args = closed.wrap([*inner, *argv], workdir, writable)
    at = args.index("--chdir")
    extra = [
        "--dir", str(INSIDE),
        "--ro-bind", str(Path(egress_forward.__file__).resolve()), str(INSIDE / "forward.py"),
        "--bind", str(socket_path), str(INSIDE / "proxy.sock"),
    ]  # fmt: skip
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"):
        extra += ["--setenv", name, proxy]
    extra += ["--unsetenv", "NO_PROXY", "--unsetenv", "no_proxy"]
    return [*args[:at], *extra, *args[at:]]
