"""`./dev login`: print a one-time link that signs the operator in to the web pages.

Whoever can run commands on the machine holds Repobox anyway, so the link signs in as
the operator, an admin. It works once and expires in ten minutes; it needs no OAuth app,
which is what makes the embedded default usable from a fresh clone.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from redis import Redis
from redis.exceptions import RedisError

from bot.core.config import Settings
from bot.core.errors import ConfigError, UserError
from bot.core.redisio import connect, locate
from bot.identity import accounts, signin_links
from bot.identity.accounts import AccountStore
from bot.identity.people import Identity, IdentityKind

OPERATOR = Identity(IdentityKind.OPERATOR, "local")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    login = subparsers.add_parser("login", help="print a one-time sign-in link for the web pages")
    login.set_defaults(run=main)


def operator_link(settings: Settings, redis: Redis) -> str:
    """The link start-up prints and `login` prints: one sign-in as the operator (off the
    loop: the account store's and the links' coroutines, run to the end)."""

    async def link(store: AccountStore) -> str:
        operator = await store.person_for(OPERATOR, "Operator")
        return await signin_links.issue(settings, store.redis, operator.id)

    return accounts.blocking(settings, redis, link)


def signin_lines(link: str, *, at_start: bool = False) -> str:
    """What `login` (and start-up, `at_start`) prints: the link, how long it works, and how
    to get another once it has expired."""
    minutes = signin_links.DEFAULT_TTL // 60
    if at_start:
        return (
            f"Open the dashboard: {link}\n(a one-time sign-in link: it works once, for "
            f"{minutes} minutes; `./dev login` prints another)"
        )
    return (
        f"Open this link to sign in (it works once, for {minutes} minutes; `./dev login` "
        f"prints another):\n{link}"
    )


def main(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    try:
        link = operator_link(settings, connect(locate(settings)))
    except (ConfigError, UserError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2 if isinstance(error, ConfigError) else 1
    except RedisError as error:
        print(f"error: Redis: {error}", file=sys.stderr)
        return 1
    print(signin_lines(link), file=out)
    return 0
