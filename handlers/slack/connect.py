"""`/repobox connect`: a private, one-time link to the web settings page.

It signs this Slack user in (creating their Repobox account on first use) so they can link
their GitHub or GitLab account; a token is never asked for in a channel. The answer rides
in the slash command's ephemeral acknowledgement, seen by the person alone.
"""

from __future__ import annotations

from bot.commands.repo_spec import Reach
from bot.core.errors import UserError
from bot.identity import acting, signin_links
from bot.identity.accounts import accounts_on
from bot.identity.people import Identity
from handlers.common.context import WebContext

WORD = "connect"


def wants_connect(text: str) -> bool:
    return text.split()[:1] == [WORD]


async def connect_answer(ctx: WebContext, team: str, user: str, name: str) -> str:
    accounts = accounts_on(ctx.settings, ctx.aredis)
    link = await signin_links.connect_link(accounts, team, user, name)
    minutes = signin_links.DEFAULT_TTL // 60
    return (
        f"🔗 <{link}|Open your Repobox settings> to link your GitHub or GitLab account, so "
        f"sessions you start push and open merge requests as you. The link is yours alone: it "
        f"works once, for {minutes} minutes."
    )


async def require_linked(ctx: WebContext, repo: str, team: str, user: str, name: str) -> None:
    """With REPOBOX_REQUIRE_LINKED, a hosted repository needs the person's linked account
    for its host: say so, privately, with the connect link (before any session exists)."""
    if not ctx.settings.require_linked:
        return
    provider = acting.HOSTED.get(ctx.service.check_spec(repo, Reach.CHAT).provider)
    if provider is None:
        return
    accounts = accounts_on(ctx.settings, ctx.aredis)
    person = await accounts.find(Identity.slack(team, user))
    if person is not None and await accounts.connection(person.id, provider) is not None:
        return
    raise UserError(
        f"Repobox works on {provider.value} repositories as you: link your account first.",
        hint=await connect_answer(ctx, team, user, name),
    )
