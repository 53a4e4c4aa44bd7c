"""`./dev doctor`: every integration's health in plain words, one line each, as the running
server sees it.

The server's settings are what matter (the terminal's environment may differ: another
agent, no key), so the running Repobox is asked for its checks (`bot.doctor.exchange`).
With none running, this terminal's settings are checked instead, and it says so.
Exit status 0 when everything configured works, 1 otherwise, so it fits a deploy check.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from redis.exceptions import RedisError

from bot.core.config import Settings
from bot.core.errors import UserError
from bot.core.redisio import connect, locate
from bot.doctor.check import Check
from bot.doctor.exchange import ask, server_running

NO_SERVER = "no Repobox server is running; checking this terminal's settings instead"
NO_ANSWER = (
    "the running Repobox server did not answer in time; checking this terminal's settings instead"
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = subparsers.add_parser(
        "doctor",
        help="check Slack, GitLab, GitHub, Anthropic, the agent, the sandbox, Redis and disk, "
        "as the running server sees them",
    )
    doctor.set_defaults(run=main)


def main(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    try:
        checks = _checks(settings, out)
    except BrokenPipeError:
        return 141
    for check in checks:
        print(check.line, file=out)
    failed = [check.name for check in checks if not check.ok]
    print("All good." if not failed else f"Needs attention: {', '.join(failed)}.", file=out)
    return 1 if failed else 0


def _checks(settings: Settings, out: TextIO) -> list[Check]:
    """The server's checks if one answers; this terminal's otherwise (and it says which)."""
    # Here, not at the top: the checks load every agent (the Anthropic SDK, MCP), and every
    # `./dev session …` command builds this one's parser; they need not pay 1.4 s for it.
    from bot.doctor.checks import run_all

    try:
        redis = connect(locate(settings))
    except UserError as error:  # no REDIS_URL and no Repobox running to find one
        print(NO_SERVER, file=out)
        return run_all(settings, None, redis_missing=str(error))
    try:
        answer = ask(redis) if server_running(redis) else None
        running = answer is not None or server_running(redis)
    except (RedisError, OSError):
        answer, running = None, False
    if answer is not None:
        print(f"checks by the running Repobox server on {answer.server}:", file=out)
        return answer.checks
    print(NO_ANSWER if running else NO_SERVER, file=out)
    return run_all(settings, redis)
