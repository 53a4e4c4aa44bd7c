"""`./dev keys rotate`: re-seal every stored credential under the current key.

After REPOBOX_SECRET_KEY changes (the old one moved to REPOBOX_OLD_SECRET_KEYS), tokens
sealed with the old key still open; this re-seals them, after which the old key can be
dropped. It prints counts, never a token.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from redis.exceptions import RedisError

from bot.core.config import Settings
from bot.core.errors import ConfigError, UserError
from bot.core.redisio import connect, locate
from bot.identity import accounts
from bot.security.credentials import keyring


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = subparsers.add_parser("keys", help="manage the key that seals stored credentials")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    actions.add_parser("rotate", help="re-encrypt every stored credential under REPOBOX_SECRET_KEY")
    keys.set_defaults(run=main)


def main(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    try:
        ring = keyring(settings)
        redis = connect(locate(settings))
        report = accounts.blocking(settings, redis, lambda store: store.rotate())
    except (ConfigError, UserError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2 if isinstance(error, ConfigError) else 1
    except RedisError as error:
        print(f"error: Redis: {error}", file=sys.stderr)
        return 1
    print(
        f"key {ring.current_id}: {report.resealed} credential(s) re-encrypted, "
        f"{report.current} already current",
        file=out,
    )
    if report.failed:
        print(
            f"{len(report.failed)} credential(s) open with no known key and were left as they "
            f"are ({', '.join(report.failed)}); their owners must link again, or add the key "
            "that sealed them to REPOBOX_OLD_SECRET_KEYS.",
            file=out,
        )
        return 1
    return 0
