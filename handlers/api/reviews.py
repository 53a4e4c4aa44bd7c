"""`POST /api/v1/reviews`: a review of a merge request by its URL, asked as the token's
owner. The rights are the Slack command's (`bot.review.access`): a linked account must read
the repository; unlinked, the bot's access, refused under `REPOBOX_REQUIRE_LINKED`."""

from __future__ import annotations

import uuid
from typing import Literal, cast

from bot.core.errors import Forbidden
from bot.identity.acting import HOSTED
from bot.review import asked as asked_review
from handlers.api import models
from handlers.api.operations import Call
from jobs.review_asked import REVIEW_TIMEOUT, review_by_url


async def ask_review(call: Call) -> models.ReviewQueued:
    wanted: models.ReviewIn = call.body
    ctx = call.api.web
    text = f"{wanted.url} {wanted.focus}" if wanted.focus else wanted.url
    asked = asked_review.parse(text, ctx.settings)
    person = call.caller.account.id
    linked = await call.api.accounts.connection(person, HOSTED[asked.provider]) is not None
    if ctx.settings.require_linked and not linked:
        raise Forbidden(
            f"Reviews on {asked.provider} are asked as you: link your account in Settings first."
        )
    request_id = call.request_id(uuid.uuid4().hex)
    await ctx.jobs.enqueue(
        review_by_url,
        job_id=f"review:{asked.provider}:{asked.project}:{asked.number}:{request_id}",
        timeout=REVIEW_TIMEOUT,
        provider=asked.provider,
        project=asked.project,
        number=asked.number,
        focus=asked.focus,
        person_id=person if linked else None,
    )
    return models.ReviewQueued(
        message=f"Reviewing {asked.label}: the review is posted on it.",
        provider=cast(Literal["github", "gitlab"], asked.provider),
        project=asked.project,
        number=asked.number,
    )
