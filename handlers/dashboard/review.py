"""The session page's Review button: a review of the merge request the session shipped,
asked as the signed-in person with the Slack command's rights (`bot.review.access`), and
posted there; the page only says it is queued."""

from __future__ import annotations

import uuid

from bot.core.errors import Conflict, Forbidden
from bot.identity.accounts import accounts_on
from bot.identity.acting import HOSTED
from bot.review.asked import AskedReview
from bot.sessions.session import Session
from handlers.common.context import WebContext
from handlers.dashboard.viewer import Viewer
from jobs.review_asked import REVIEW_TIMEOUT, review_by_url


async def ask_review(ctx: WebContext, viewer: Viewer, found: Session) -> str:
    """Queue the review of `found`'s merge request; what the page says."""
    shipped = found.merge_request
    provider = HOSTED.get(found.provider)
    if shipped is None or shipped.number is None or provider is None:
        raise Conflict("Review works once the session has opened its merge request.")
    asked = AskedReview(found.provider, found.project, shipped.number, None)
    store = accounts_on(ctx.settings, ctx.aredis)
    linked = await store.connection(viewer.account.id, provider) is not None
    if ctx.settings.require_linked and not linked:
        raise Forbidden(
            f"Reviews on {provider.value} are asked as you: link your account in Settings first."
        )
    await ctx.jobs.enqueue(
        review_by_url,
        job_id=f"review:{asked.provider}:{asked.project}:{asked.number}:web:{uuid.uuid4().hex}",
        timeout=REVIEW_TIMEOUT,
        provider=asked.provider,
        project=asked.project,
        number=asked.number,
        focus=None,
        person_id=viewer.account.id if linked else None,
    )
    return f"Reviewing {asked.label}: the review is posted on it."
