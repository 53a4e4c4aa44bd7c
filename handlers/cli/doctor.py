"""`python app.py doctor`: every integration's health in plain words, one line each.

Exit status 0 when everything configured works, 1 otherwise, so it fits a deploy check.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from bot.core.config import Settings
from bot.core.errors import UserError
from bot.core.redisio import connect, locate
from bot.doctor import run_all


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = subparsers.add_parser(
        "doctor", help="check Slack, GitLab, GitHub, Anthropic, the agent, Redis and disk"
    )
    doctor.set_defaults(run=main)


def main(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    try:
        checks = run_all(settings, connect(locate(settings)))
    except UserError as error:  # no REDIS_URL and no Repobox running to find one
        checks = run_all(settings, None, redis_missing=str(error))
    for check in checks:
        print(check.line, file=out)
    failed = [check.name for check in checks if not check.ok]
    print("All good." if not failed else f"Needs attention: {', '.join(failed)}.", file=out)
    return 1 if failed else 0
