"""`./dev demo`: Repobox's whole flow on a sample repository, with no account and no AI.

It makes the sample (`demo_sample`), starts Repobox as `./dev run` would, with the demo
agent (`REPOBOX_AGENT=demo`), and walks through a session with the terminal's own commands
(`demo_walk`): prompt, live log, checks, diff, ship, undo. Then it leaves Repobox running,
so the dashboard can be opened with the sign-in link it prints, until Ctrl-C (or, with
`--no-wait`, stops it at once).

Repobox runs as a child in this terminal's process group, as under `./dev run`: Ctrl-C
reaches it too and it stops the way it always does, and it dies with this process.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TextIO

from bot.core.config import Settings
from bot.core.errors import GitError, UserError
from bot.core.redisio import is_alive, recorded_address, supervisor_alive
from bot.core.supervisor import die_with_parent
from handlers.cli.demo_sample import demo_place, make_sample
from handlers.cli.demo_walk import Walk, shown_path

APP = Path(__file__).resolve().parents[2] / "app.py"
READY_SECONDS = 180.0
STOP_MARGIN = 30.0  # past the shutdown grace, before a stuck Repobox is killed


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser(
        "demo", help="try the whole flow on a sample repository, with no account and no AI"
    )
    demo.add_argument(
        "--no-wait",
        "--once",
        dest="no_wait",
        action="store_true",
        help="stop Repobox after the walk instead of leaving it running",
    )
    demo.set_defaults(run=main)


def main(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    try:
        _refuse_a_running_repobox(settings)
        demo_dir = demo_place(settings.data_dir)
        sample = make_sample(demo_dir)
    except (UserError, GitError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    walk = Walk(settings, sample, out)
    say = walk.say
    say(
        "Repobox demo: no account and no AI. The demo agent edits files by fixed rules on "
        "your prompt's words; everything else is the real thing."
    )
    say(
        f"Made a sample repository at {shown_path(sample)}: a bare git repository standing "
        "in for your GitLab or GitHub project, with hello.py, its test, and a .repobox.yml "
        "whose check runs that test."
    )
    log_path = demo_dir / "repobox.log"
    say(
        "Starting Repobox with the demo agent (REPOBOX_AGENT=demo ./dev run); its own log "
        f"goes to {shown_path(log_path)}."
    )
    server = _start(settings, demo_dir, log_path)
    try:
        _wait_ready(settings, server, log_path)
        say(f"Repobox is up at {settings.public_url}.")
        walked = walk.run()
        if walked != 0 or args.no_wait:
            return walked
        say("Repobox keeps running with the demo agent. Press Ctrl-C to stop it.")
        if server.wait() != 0:
            say(f"Repobox stopped by itself (exit {server.returncode}); see its log.")
            return 1
        return 0
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping Repobox …", file=out, flush=True)
        return 130
    finally:
        _stop(settings, server)


def _refuse_a_running_repobox(settings: Settings) -> None:
    """One Repobox per data dir, and the demo's web page needs its port."""
    address = recorded_address(settings.data_dir)
    if supervisor_alive(settings.data_dir) or (address and is_alive(address)):
        raise UserError(
            f"Repobox is already running on {settings.data_dir}.",
            hint="Stop it (Ctrl-C in its terminal) and run `./dev demo` again, or give the demo "
            "a data dir of its own: `REPOBOX_DATA_DIR=.repobox-demo ./dev demo`.",
        )
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web process binds
        try:
            probe.bind(("", settings.port))
        except OSError:
            raise UserError(
                f"Port {settings.port} is in use.",
                hint=f"Pick a free one: `REPOBOX_PORT={settings.port + 1} ./dev demo`.",
            ) from None


def _start(settings: Settings, demo_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """`./dev run` with the demo agent, its output in the log file (the walk narrates)."""
    env = {k: v for k, v in os.environ.items() if k != "REPOBOX_AGENT_COMMAND"}
    roots = [str(root) for root in settings.local_roots] + [str(demo_dir)]
    env.update(
        REPOBOX_AGENT="demo",
        REPOBOX_DATA_DIR=str(settings.data_dir),
        REPOBOX_LOCAL_ROOTS=os.pathsep.join(roots),  # the dashboard and chat may open the sample
        REPOBOX_COMPARE_DEFAULT=env.get("REPOBOX_COMPARE_DEFAULT") or "demo,demo",
    )
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, str(APP)],
            env=env,
            cwd=APP.parent,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: die_with_parent(signal.SIGTERM),  # noqa: PLW1509 - no threads yet
        )


def _wait_ready(settings: Settings, server: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until `/healthz` answers; a Repobox that exits first is shown by its log's last lines."""
    url = f"http://127.0.0.1:{settings.port}/healthz"
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
            raise UserError(f"Repobox stopped while starting (exit {server.returncode}):\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise UserError(f"Repobox did not answer at {url} within {READY_SECONDS:.0f} s.")


def _stop(settings: Settings, server: subprocess.Popen[bytes]) -> None:
    """Stop Repobox as Ctrl-C would (it may be stopping already) and wait for it; a second
    Ctrl-C reaches it too (it hands its run back at once), a stuck one is killed."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
    deadline = time.monotonic() + settings.shutdown_grace + STOP_MARGIN
    while server.poll() is None:
        try:
            server.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            server.kill()
        except KeyboardInterrupt:
            deadline = min(deadline, time.monotonic() + STOP_MARGIN)
