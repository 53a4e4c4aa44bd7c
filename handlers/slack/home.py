"""The Slack App Home tab: the person's recent sessions, their connections, a connect button.

Published with `views.publish` each time they open the tab (`app_home_opened`). The
connect button carries a fresh one-time link to the web settings (as `/repobox connect`);
the tab is seen by that person alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, ButtonElement, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.identity import broken, signin_links
from bot.identity.accounts import accounts_on
from bot.identity.broken import BrokenLink
from bot.identity.people import Identity
from bot.security.links import session_link
from bot.sessions.session import Session
from bot.surfaces.slack.kit import actions, escape, plain, section
from bot.surfaces.slack.thread import SURFACE
from handlers.common.context import WebContext
from handlers.slack.filters import typed
from handlers.slack.request import EventCallback

log = logging.getLogger(__name__)
RECENT = 10
CONNECT_ACTION = "home_connect"  # a link button: Slack opens it, we only ack the click


def home_view(
    sessions: list[tuple[Session, str]],
    connections: list[str],
    connect_url: str,
    broken_links: Sequence[BrokenLink] = (),
) -> View:
    """`sessions`: the person's recent ones, each with its live page's signed link; a
    broken link leads, so the person learns why Repobox acts as the bot for them."""
    blocks: list[Block] = []
    for link_broken in broken_links:
        blocks.append(
            section(
                f":warning: *Your {link_broken.title} link is broken*: "
                f"{escape(link_broken.why)}. Until you link {link_broken.title} again (the "
                "button below), Repobox acts as the bot "
                "for you there."
            )
        )
    blocks.append(HeaderBlock(text=plain("Your Repobox sessions")))
    for found, link in sessions[:RECENT]:
        blocks.append(
            section(
                f"*{escape(found.title or found.id)}* · `{escape(found.project)}` · "
                f"{escape(found.state.value)} · <{link}|live log>"
            )
        )
    if not sessions:
        blocks.append(section("No sessions yet: `/repobox new <repo> <prompt>` starts one."))
    blocks += [DividerBlock(), HeaderBlock(text=plain("Connections"))]
    linked = ", ".join(connections) if connections else "none yet"
    blocks.append(
        section(
            f"Linked accounts: {escape(linked)}. Linked, Repobox pushes and opens merge "
            "requests as you."
        )
    )
    connect = ButtonElement(
        text=plain("Connect GitHub or GitLab"),
        action_id=CONNECT_ACTION,
        url=connect_url,
        style="primary",
    )
    blocks.append(actions([connect]))
    return View(type="home", blocks=blocks)


class AppHome:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    async def opened(self, ack: AsyncAck, context: AsyncBoltContext) -> None:
        await ack()
        parsed = typed(context)
        if not isinstance(parsed, EventCallback) or not parsed.event.user:
            return
        team, user = parsed.team_id, parsed.event.user
        view = await self.view_for(team, user)
        try:
            await context.client.views_publish(user_id=user, view=view)
        except SlackApiError as error:
            log.warning("publishing the App Home failed: %s", error.response.get("error"))

    async def view_for(self, team: str, user: str) -> View:
        ctx = self.ctx
        accounts = accounts_on(ctx.settings, ctx.aredis)
        person = await accounts.person_for(Identity.slack(team, user), user)
        connections = [
            f"{c.provider.value} {c.login} ({c.masked})"
            for c in await accounts.connections(person.id)
        ]
        prefix = f"{team}:"
        mine = [
            s
            for s in await ctx.service.sessions.recent(limit=200)
            if s.thread.surface == SURFACE
            and s.thread.key.startswith(prefix)
            and s.created_by.id == user
        ]
        linked = [(s, session_link(ctx.settings, s.id)) for s in mine[:RECENT]]
        connect = await signin_links.issue(ctx.settings, ctx.aredis, person.id)
        broken_links = await broken.of_person(ctx.aredis, person.id)
        return home_view(linked, connections, connect, broken_links)
