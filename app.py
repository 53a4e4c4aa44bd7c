"""Repobox start-up: `./dev run [web | worker]`, `./dev session …` (app.py inside `.venv`).

With no command it runs everything in one process tree on the embedded default: an
embedded Valkey (when REDIS_URL is unset), worker processes, and the web process.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

try:
    from bot.core.config import Settings
    from bot.core.errors import ConfigError, UserError
    from bot.core.logs import setup_logging
    from bot.core.redisio import PID_FILE, connect, locate
except ModuleNotFoundError as missing:  # a plain `python app.py`, outside `.venv`
    from handlers.cli.venv import rerun_in_venv

    rerun_in_venv(__file__, missing)

log = logging.getLogger("repobox")

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    from handlers.cli import demo as cli_demo
    from handlers.cli import doctor as cli_doctor
    from handlers.cli import keys as cli_keys
    from handlers.cli import login as cli_login
    from handlers.cli import sessions as cli

    parser = argparse.ArgumentParser(
        prog="./dev",
        description="Repobox: a chat-ops coding bot. With no command, runs the web process "
        "and workers together (on an embedded Valkey when REDIS_URL is unset).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("web", help="run the web process (Slack, webhooks, live pages)")
    worker = commands.add_parser("worker", help="run a worker that takes jobs from Redis")
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    cli.add_parser(commands)
    cli_keys.add_parser(commands)
    cli_login.add_parser(commands)
    cli_doctor.add_parser(commands)
    cli_demo.add_parser(commands)
    return parser.parse_args(argv)


def run_web(settings: Settings, redis_url: str) -> None:
    from aiohttp import web

    from handlers.web import build_app

    _drop_secrets_from_environment(settings)
    app = build_app(settings, connect(redis_url))
    log.info("web process listening on port %d (%s)", settings.port, settings.public_url)
    web.run_app(app, port=settings.port, print=None, access_log=None, handle_signals=True)


def _drop_secrets_from_environment(settings: Settings) -> None:
    """The web process's secrets live in its `Settings` from here on, not in its environment.

    Libraries read some of them from the environment behind our back: Bolt takes
    SLACK_BOT_TOKEN as a token beside the client we hand it (and warns that it "will be
    unused"); nothing the web process starts should inherit one either.
    """
    for name in settings.secret_env_names:
        os.environ.pop(name, None)


def run_worker(settings: Settings, redis_url: str, burst: bool) -> None:
    from jobs.worker.process import run_worker as work

    work(settings, connect(redis_url), burst=burst)


def _print_signin_link(settings: Settings, redis_url: str) -> None:
    """The embedded default's way in: a one-time operator link (as `./dev login`)."""
    from redis.exceptions import RedisError

    from handlers.cli.login import operator_link, signin_lines

    try:
        link = operator_link(settings, connect(redis_url))
    except (RedisError, UserError) as error:
        log.warning("no sign-in link at start-up (%s); run `./dev login`", error)
        return
    print(signin_lines(link, at_start=True), flush=True)


def run_all(settings: Settings) -> int:
    """Embedded Valkey (if needed), N workers and the web process, all supervised."""
    from bot.core.embedded import EmbeddedValkey
    from bot.core.instance import claim
    from bot.core.supervisor import Child, Supervisor
    from jobs.worker.fleet import Fleet

    instance = claim(settings.data_dir, settings.port)  # before anything of the first's is touched
    embedded = None
    pid_file = settings.data_dir / PID_FILE  # lets the CLI tell "restarting" from "not running"
    try:
        redis_url = settings.redis_url
        if redis_url is None:
            embedded = EmbeddedValkey(settings.data_dir)
            redis_url = embedded.start()
        env = {**os.environ, "REDIS_URL": redis_url, "REPOBOX_DATA_DIR": str(settings.data_dir)}
        app = [sys.executable, str(HERE / "app.py")]
        children = [
            Child(f"worker {i + 1}", [*app, "worker"], env, worker=True)
            for i in range(settings.workers)
        ]
        children.append(Child("web", [*app, "web"], env))
        log.info(
            "starting %d workers and the web process; data in %s",
            settings.workers,
            settings.data_dir,
        )
        _print_signin_link(settings, redis_url)
        pid_file.write_text(f"{os.getpid()}\n")
        fleet = Fleet(settings, connect(redis_url))
        supervisor = Supervisor(children, embedded, grace=settings.shutdown_grace, fleet=fleet)
    except BaseException:  # a Ctrl-C or a failure before anything is supervised: leave nothing
        if embedded is not None:
            embedded.stop()
        pid_file.unlink(missing_ok=True)
        instance.release()
        raise
    try:
        return supervisor.run()  # it stops the Valkey last
    finally:
        pid_file.unlink(missing_ok=True)
        instance.release()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "session":
        from handlers.cli import sessions as cli

        return cli.main(args, settings)
    if hasattr(args, "run"):  # commands of their own module: keys, login, doctor
        return int(args.run(args, settings))
    from bot.security.credentials import keyring

    try:  # a malformed key stops start-up here, not at the first sign-in
        keyring(settings)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    setup_logging(settings)
    if args.command != "web":  # the agent must be able to start before anyone waits on it
        from bot.agents.command import check_agent_command

        try:
            check_agent_command(settings)
        except ConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    try:
        if args.command == "web":
            run_web(settings, locate(settings))
        elif args.command == "worker":
            run_worker(settings, locate(settings), args.burst)
        else:
            return run_all(settings)
    except ConfigError as error:  # the embedded Valkey would not start
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C while starting: nothing was left running
        return 130
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
