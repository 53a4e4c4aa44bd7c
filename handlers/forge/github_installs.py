"""GitHub App deliveries `installation` and `installation_repositories`: where Repobox's App
is installed, recorded in Redis (`keys.github_installations`) and logged, answered 202.

The recorded list is what the doctor and people read; the App's tokens do not depend on it
(each repository's installation is asked of GitHub), so a lost delivery costs nothing but
the record. An action Repobox does not know is ignored, with 202 all the same, so GitHub
does not retry it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Annotated

from aiohttp import web

from bot.core import keys
from bot.core.redisio import maybe_str
from handlers.common.context import WebContext
from handlers.common.fields import Id, Payload, at_most, read, shaped
from handlers.common.payload import Malformed
from handlers.forge.webhooks import malformed

log = logging.getLogger(__name__)

SURFACE = "github"
EVENTS = ("installation", "installation_repositories")
REMOVED = frozenset({"deleted"})
ACTIONS = {
    "installation": frozenset(
        {"created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"}
    ),
    "installation_repositories": frozenset({"added", "removed"}),
}
_NAME = r"[A-Za-z0-9_.-]{1,100}"
_LOGIN = re.compile(rf"{_NAME}(?:\[bot\])?")
_REPO = re.compile(rf"{_NAME}/{_NAME}")
_ACTION = re.compile(r"[a-z_]{1,40}")


class Account(Payload):
    login: Annotated[str, at_most(100), shaped(_LOGIN)]
    id: Id


class Installation(Payload):
    id: Id
    account: Account


class Repo(Payload):
    full_name: Annotated[str, at_most(201), shaped(_REPO)]


class Installed(Payload):
    action: Annotated[str, at_most(40), shaped(_ACTION)]
    installation: Installation
    repositories: list[Repo] | None = None  # installation: the selected ones, if any
    repository_selection: Annotated[str, at_most(20)] | None = None
    repositories_added: list[Repo] = []
    repositories_removed: list[Repo] = []


def accepted(status: str) -> web.Response:
    return web.json_response({"status": status}, status=202)


async def receive(ctx: WebContext, name: str, payload: dict[str, object]) -> web.Response:
    try:
        delivered = read(Installed, payload)
    except Malformed as error:
        raise malformed(SURFACE, error.what) from None
    if delivered.action not in ACTIONS[name]:
        log.info("github %s action %s ignored", name, delivered.action)
        return accepted("ignored")
    installation = delivered.installation
    key, field = keys.github_installations(), str(installation.id)
    if name == "installation" and delivered.action in REMOVED:
        await ctx.aredis.hdel(key, field)
        log.info("github app uninstalled from %s", installation.account.login)
        return accepted("recorded")
    before = json.loads(maybe_str(await ctx.aredis.hget(key, field)) or "{}")
    repos = before.get("repositories", "all")
    if name == "installation":
        selected = delivered.repository_selection == "selected" or (
            delivered.repository_selection is None and delivered.repositories is not None
        )
        repos = sorted(r.full_name for r in delivered.repositories or []) if selected else "all"
    elif delivered.repository_selection == "all":
        repos = "all"
    else:
        kept = set(repos if isinstance(repos, list) else [])
        kept |= {r.full_name for r in delivered.repositories_added}
        kept -= {r.full_name for r in delivered.repositories_removed}
        repos = sorted(kept)
    record = {
        "account": installation.account.login,
        "repositories": repos,
        "action": delivered.action,
        "at": int(time.time()),
    }
    await ctx.aredis.hset(key, field, json.dumps(record))
    count = "all repositories" if repos == "all" else f"{len(repos)} repositories"
    log.info(
        "github app installation %s on %s: %s (%s)",
        installation.id, installation.account.login, delivered.action, count,
    )  # fmt: skip
    return accepted("recorded")
