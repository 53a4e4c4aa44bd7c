"""Who is looking at a dashboard page, and the one-line notice the last action left them.

A viewer is a signed-in account; admins see everyone's sessions, others their own, wherever
they started them (matched through their linked identities: `bot.identity.linked`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from bot.identity.linked import starters_of
from bot.identity.people import Person as Account
from bot.sessions.session import Person, Session
from bot.sessions.starters import starter_of
from handlers.dashboard.auth.context import context, keep, redirect, session

SIGNIN = "/account/signin"


@dataclass(frozen=True)
class Viewer:
    account: Account
    admin: bool
    starters: frozenset[str] = frozenset()  # the identities they start sessions as

    @property
    def person(self) -> Person:
        """How sessions and prompts name the person (`web:` + their account id)."""
        return Person(f"web:{self.account.id}", self.account.display_name)

    def may_see(self, found: Session) -> bool:
        """Admins see every session; others the ones any of their linked identities started
        (from Slack, a forge comment, the terminal or here)."""
        thread = found.thread
        return self.admin or starter_of(thread.surface, thread.key, found.created_by.id) in (
            self.starters | {self.person.id}
        )


async def viewer_of(request: web.Request) -> Viewer | None:
    ctx, current = context(request), session(request)
    account = await ctx.accounts.person(current.person_id) if current.person_id else None
    if account is None:
        return None
    admin = await ctx.accounts.is_admin(account.id)
    return Viewer(account, admin, await starters_of(ctx.accounts, account.id))


async def signed_in(request: web.Request) -> Viewer:
    viewer = await viewer_of(request)
    if viewer is None:
        here = request.path_qs if request.method == "GET" else "/dashboard/"
        raise web.HTTPSeeOther(f"{SIGNIN}?next={quote(here, safe='')}")
    return viewer


def said(request: web.Request, where: str, note: str) -> web.Response:
    keep(request, session(request).with_notice(note))
    return redirect(where)


def take_notice(request: web.Request) -> str | None:
    current = session(request)
    if current.notice:
        keep(request, current.with_notice(None))
    return current.notice
