"""`review_by_url`: a review asked for by its merge request's URL, from Slack, the JSON API
or the dashboard, where the host cannot tell us who asked.

The asker's rights are checked here (`bot.review.access`: their linked token must read the
repository, or the bot's access under the default rules), then the review is posted on the
merge request as any review is. From Slack, a message in the channel says it started and
its thread gets the counts and the link, or the reason it could not be done.
"""

from __future__ import annotations

import logging

from bot.core.errors import Forbidden, UpstreamError, UserError
from bot.core.logs import crash_reference
from bot.forges.forge import ReplyTarget
from bot.forges.registry import forge_for
from bot.forges.text import defuse, host_words
from bot.identity import accounts
from bot.identity.acting import HOSTED
from bot.identity.people import Credential
from bot.review import access
from bot.review.asked import AskedReview
from bot.security.credentials import CredentialError
from bot.surfaces.slack import kit
from bot.surfaces.slack.calls import SlackCalls
from bot.surfaces.slack.clients import web_client
from jobs.review_jobs import REVIEW_TIMEOUT
from jobs.session_jobs import context
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)
__all__ = ["REVIEW_TIMEOUT", "review_by_url"]


def review_by_url(
    provider: str,
    project: str,
    number: int,
    focus: str | None,
    person_id: str | None,
    slack: dict[str, str] | None = None,
) -> None:
    """`slack`: {team, channel, user} when asked with `/repobox review`."""
    from jobs.steps.review import review  # here, as in jobs.review_jobs: the web imports us

    ctx = context()
    asked = AskedReview(provider, project, number, focus)
    thread = _started(ctx, asked, slack)
    said: str | None = None
    try:
        credential = _credential(ctx, provider, person_id)
        access.check(ctx.settings, HOSTED[provider], credential, project)
        done = review(ctx, forge_for(provider, ctx.settings), project, number, focus)
        assert done is not None  # only an automatic review is skipped
        log.info("review of %s posted: %s (%s)", asked.label, done.url, done.counts)
        _tell(ctx, slack, thread, f"✅ Review posted on <{done.url}|{asked.label}>: {done.counts}.")
        return
    except Forbidden as error:  # said to the asker only, never on the merge request
        _tell(ctx, slack, thread, f"🚫 {error}")
        return
    except UserError as error:
        said = str(error)
    except UpstreamError as error:
        said = f"{error} Please try again in a moment."
    except Exception:
        ref = crash_reference(log, f"review of {asked.label} failed")
        said = f"The review failed on our side (ref {ref})."
    _tell(ctx, slack, thread, f"⚠️ The review of {asked.label} was not posted: {said}")
    if slack is None:  # asked from the API or the dashboard: say it where the review goes
        _say_on_forge(ctx, asked, said)


def _credential(ctx: JobContext, provider: str, person_id: str | None) -> Credential | None:
    if person_id is None:
        return None
    wanted = HOSTED[provider]
    try:
        return accounts.blocking(
            ctx.settings, ctx.redis, lambda store: store.credential(person_id, wanted)
        )
    except CredentialError:
        raise Forbidden(
            f"Your {wanted.value} link no longer opens: link it again in your settings."
        ) from None


def _started(ctx: JobContext, asked: AskedReview, slack: dict[str, str] | None) -> str | None:
    """The channel message whose thread gets the result; None outside Slack."""
    if slack is None or not ctx.settings.slack_bot_token:
        return None
    focus = f" (focus: {kit.escape(asked.focus[:200])})" if asked.focus else ""
    text = f"🔎 Reviewing {asked.label} for <@{slack['user']}>{focus}…"
    fallback, blocks = kit.notice(text)
    calls = SlackCalls(web_client(ctx.settings))
    return calls.post(channel=slack["channel"], text=fallback, blocks=blocks)


def _tell(ctx: JobContext, slack: dict[str, str] | None, thread: str | None, text: str) -> None:
    if slack is None or not ctx.settings.slack_bot_token:
        return
    fallback, blocks = kit.notice(text)
    SlackCalls(web_client(ctx.settings)).post(
        channel=slack["channel"], text=fallback, blocks=blocks, thread_ts=thread
    )


def _say_on_forge(ctx: JobContext, asked: AskedReview, said: str) -> None:
    forge = forge_for(asked.provider, ctx.settings)
    target = ReplyTarget(asked.project, "merge_request", asked.number)
    try:
        forge.post(target, host_words(defuse(said, ctx.settings.bot_name), asked.provider))
    except (UserError, UpstreamError) as error:
        log.warning("could not say the review of %s failed: %s", asked.label, error)
