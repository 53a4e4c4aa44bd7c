"""`/repobox review <url> [focus…]`: a review of a merge request from Slack.

The URL is read here (configured hosts only, no network), and under
`REPOBOX_REQUIRE_LINKED` the person must have linked that host; the rest (their rights,
the review, the summary in the channel) is the job's, so the acknowledgement is at once.
"""

from __future__ import annotations

from bot.commands.grammar import Command
from bot.core.errors import UserError
from bot.identity.accounts import accounts_on
from bot.identity.acting import HOSTED
from bot.identity.people import Identity
from bot.review import asked as asked_review
from bot.surfaces.slack import kit
from handlers.slack.connect import connect_answer
from handlers.slack.request import SlashCommand
from handlers.slack.workspace import Workspace
from jobs.review_asked import REVIEW_TIMEOUT, review_by_url


async def ask_review(workspace: Workspace, payload: SlashCommand, command: Command) -> str:
    """Queue the review; the ephemeral answer that says so."""
    ctx = workspace.ctx
    asked = asked_review.parse(command.prompt or "", ctx.settings)
    team, user = payload.team_id, payload.user_id
    store = accounts_on(ctx.settings, ctx.aredis)
    person = await store.find(Identity.slack(team, user))
    provider = HOSTED[asked.provider]
    linked = person is not None and await store.connection(person.id, provider) is not None
    if ctx.settings.require_linked and not linked:
        raise UserError(
            f"Reviews on {provider.value} are asked as you: link your account first.",
            hint=await connect_answer(ctx, team, user, payload.user_name or user),
        )
    await ctx.jobs.enqueue(
        review_by_url,
        job_id=f"review:{asked.provider}:{asked.project}:{asked.number}:slack:{payload.trigger_id}",
        timeout=REVIEW_TIMEOUT,
        provider=asked.provider,
        project=asked.project,
        number=asked.number,
        focus=asked.focus,
        person_id=person.id if linked and person is not None else None,
        slack={"team": team, "channel": payload.channel_id, "user": user},
    )
    return (
        f"🔎 Reviewing {kit.escape(asked.label)}: the review goes on the merge request, and "
        "this channel gets its summary."
    )
