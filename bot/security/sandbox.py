"""Bubblewrap around every command an agent runs: its workdir and nothing else of ours.

Inside the sandbox the system is read-only, the session's workdir is read-write (its
`.git` read-only, so a command cannot plant a hook or config that would later run in the
worker, outside the sandbox), and Repobox's data dir (mirrors, every other session's
workdir, the embedded database), the home directory, `/tmp` and `/run` are empty
throw-away tmpfs mounts. The command gets fresh PID, IPC and UTS namespaces, so it cannot
see the worker's processes or read their environment, no capabilities, and the network
only when `REPOBOX_AGENT_NETWORK` allows it.

`REPOBOX_SANDBOX`: `auto` (default) uses bubblewrap when it works here and says loudly at
start-up when it does not; `require` refuses to run commands without it; `off` never uses
it.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.config import Settings
from bot.core.errors import AgentError
from bot.security.egress_proxy import EgressProxy
from bot.security.sandbox_egress import egress_mounts, forwarder

log = logging.getLogger(__name__)

BASE_FLAGS = ("--die-with-parent", "--unshare-all", "--cap-drop", "ALL")
SYSTEM_MOUNTS = ("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc")
ALWAYS_HIDDEN = (Path("/tmp"), Path("/var/tmp"), Path("/run"))  # noqa: S108 - hidden, not used
INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)"


@dataclass(frozen=True)
class SandboxStatus:
    usable: bool
    detail: str  # the bwrap path when usable, else why not, for people
    path: str | None = None


@functools.cache
def probe() -> SandboxStatus:
    """Can bubblewrap create its namespaces here? Checked once per process."""
    path = shutil.which("bwrap")
    if path is None:
        return SandboxStatus(False, f"`bwrap` was not found on PATH; {INSTALL_HINT}")
    try:
        done = subprocess.run(
            [path, *BASE_FLAGS, *SYSTEM_MOUNTS, "true"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return SandboxStatus(False, f"`bwrap` could not be started: {error}")
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output"
        return SandboxStatus(
            False,
            f"`bwrap` cannot create namespaces here ({reason}); allow unprivileged user "
            "namespaces or run the worker where they are allowed",
        )
    return SandboxStatus(True, path, path)


class Sandbox:
    """Builds the bwrap command line for one command in one workdir."""

    def __init__(self, settings: Settings, bwrap: str) -> None:
        self.bwrap = bwrap
        self.network = settings.agent_network
        self.data_dir = settings.data_dir.resolve()
        self.egress: EgressProxy | None = None  # the allow-list's proxy, when one is on

    def with_egress(self, proxy: EgressProxy) -> Sandbox:
        """A copy whose commands have no network but `proxy` (its network namespace holds
        only loopback, where the forwarder serves the proxy's socket)."""
        closed = copy.copy(self)
        closed.network = False
        closed.egress = proxy
        return closed

    def wrap(self, argv: Sequence[str], workdir: Path, writable: Sequence[Path] = ()) -> list[str]:
        """bwrap's command line; `writable` adds directories the command may write (an
        agent CLI's own state, e.g. Claude Code's conversations), each at its own path."""
        workdir = workdir.resolve()
        args = [self.bwrap, *BASE_FLAGS]
        if self.network:
            args.append("--share-net")
        args += SYSTEM_MOUNTS
        for hidden in self._hidden(workdir):
            args += ["--tmpfs", str(hidden)]
        args += _resolver_mounts()
        args += ["--bind", str(workdir), str(workdir)]
        git_dir = workdir / ".git"
        if git_dir.exists() and not git_dir.is_symlink():
            args += ["--ro-bind", str(git_dir), str(git_dir)]
        for objects in _alternates(git_dir):
            args += ["--ro-bind-try", str(objects), str(objects)]
        for extra in writable:
            args += ["--bind", str(extra.resolve()), str(extra.resolve())]
        if self.egress is not None:
            args += egress_mounts(self.egress.socket_path)
            argv = forwarder(argv)
        return [*args, "--chdir", str(workdir), "--", *argv]

    def hidden_place(self, path: Path, workdir: Path) -> Path | None:
        """The hidden directory `path` lies in (so a command there cannot run), if any."""
        real = path.resolve()
        if real == workdir.resolve() or workdir.resolve() in real.parents:
            return None
        return next((h for h in self._hidden(workdir.resolve()) if h in real.parents), None)

    def _hidden(self, workdir: Path) -> list[Path]:
        """Places replaced by an empty tmpfs, parents first so nested ones stack correctly."""
        home = Path(os.environ.get("HOME") or Path.home()).resolve()
        candidates = {*ALWAYS_HIDDEN, home, self.data_dir}
        chosen = [
            path
            for path in candidates
            if path != Path("/")
            and path.is_dir()
            and path != workdir
            and workdir not in path.parents
            and not path.is_symlink()
        ]
        return sorted(chosen, key=lambda p: len(p.parts))


def _resolver_mounts() -> list[str]:
    """Keep DNS working when /etc/resolv.conf points into the hidden /run."""
    target = Path("/etc/resolv.conf").resolve()
    if Path("/run") in target.parents and target.exists():
        return ["--ro-bind", str(target.parent), str(target.parent)]
    return []


def _alternates(git_dir: Path) -> list[Path]:
    """Object stores a shared clone borrows from (the mirror), shown read-only so git works."""
    listing = git_dir / "objects" / "info" / "alternates"
    try:
        lines = listing.read_text().splitlines()
    except OSError:
        return []
    found = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        path = Path(line) if Path(line).is_absolute() else git_dir / "objects" / line
        found.append(path.resolve())
    return found


def sandbox_for(settings: Settings) -> Sandbox | None:
    """The sandbox to run commands in, None to run them bare, or `AgentError` if required."""
    if settings.sandbox == "off":
        return None
    status = probe()
    if status.usable and status.path:
        return Sandbox(settings, status.path)
    if settings.sandbox == "require":
        raise AgentError(
            f"Commands must run in the sandbox (REPOBOX_SANDBOX=require), but {status.detail}."
        )
    return None


def check_sandbox(settings: Settings) -> SandboxStatus:
    """Start-up check for workers: warn loudly when agents' commands will run unconfined."""
    if settings.sandbox == "off":
        log.warning(
            "SANDBOX OFF (REPOBOX_SANDBOX=off): commands run by agents are NOT isolated; they "
            "can read the data dir, other sessions' workdirs and the home directory, and the "
            "network allow-list (REPOBOX_EGRESS) is not enforced."
        )
        return SandboxStatus(False, "turned off by REPOBOX_SANDBOX=off")
    status = probe()
    if status.usable:
        log.info("sandbox: agents' commands run inside bubblewrap (%s)", status.detail)
    elif settings.sandbox == "require":
        log.error(
            "NO SANDBOX: %s. REPOBOX_SANDBOX=require, so agent runs will fail.", status.detail
        )
    else:
        log.warning(
            "NO SANDBOX: %s. Commands run by agents are NOT isolated: they can read the data "
            "dir, other sessions' workdirs and the home directory. Set REPOBOX_SANDBOX=require "
            "to refuse to run them unconfined.",
            status.detail,
        )
    if not status.usable and settings.egress == "allow-list" and settings.agent_network:
        log.warning(
            "NETWORK ALLOW-LIST NOT ENFORCED: it needs the sandbox, so commands run by agents "
            "can reach any host."
        )
    return status
