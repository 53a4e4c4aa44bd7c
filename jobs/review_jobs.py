"""`review_merge_request`: the RQ entry point of a review asked for on a forge.

The review is posted on the merge request as one review; only a failure is said as a
comment in the thread where it was asked, in words for people.
"""

from __future__ import annotations

import logging

from bot.checks.schema import AutoReview
from bot.core.errors import UpstreamError, UserError
from bot.core.logs import crash_reference
from bot.forges.forge import ReplyTarget
from bot.forges.registry import forge_for
from bot.forges.text import defuse, host_words
from jobs.session_jobs import context

log = logging.getLogger(__name__)
REVIEW_TIMEOUT = 45 * 60  # the job's own limit; the reviewer's is REPOBOX_RUN_TIMEOUT


def review_merge_request(
    provider: str,
    project: str,
    number: int,
    focus: str | None,
    reply: dict[str, object],
    without_write: bool = False,
) -> None:
    """`without_write`: asked by someone who may not push (see `review`)."""
    # Imported here: the web process imports this module only to enqueue its jobs, and the
    # review's modules load the agents (the Anthropic SDK, MCP), 1.5 s of every web start.
    from jobs.steps.review import review

    ctx = context()
    forge = forge_for(provider, ctx.settings)
    target = ReplyTarget.from_dict(reply)
    try:
        done = review(ctx, forge, project, number, focus, without_write=without_write)
        if done is not None:
            log.info("review of %s!%s posted: %s (%s)", project, number, done.url, done.counts)
        return
    except UserError as error:
        said = str(error)
    except UpstreamError as error:
        said = f"{error} Please try again in a moment."
    except Exception:
        ref = crash_reference(log, f"review of {project}#{number} failed")
        said = f"The review failed on our side (ref {ref})."
    try:
        name = ctx.settings.bot_name
        forge.post(target, host_words(defuse(said, name), provider))
    except (UserError, UpstreamError) as error:
        log.warning("could not say the review failed on %s#%s: %s", project, number, error)


def auto_review(provider: str, project: str, number: int, trigger: AutoReview) -> None:
    """A review the repository declared for `trigger` (opened, ready, pushed). Nobody asked,
    so nothing is said when it is not declared or cannot run: only the log hears it."""
    from jobs.steps.review import review  # see review_merge_request

    ctx = context()
    try:
        forge = forge_for(provider, ctx.settings)
        done = review(ctx, forge, project, number, None, auto=trigger)
    except (UserError, UpstreamError) as error:
        log.warning("automatic review of %s!%s (%s) not run: %s", project, number, trigger, error)
        return
    except Exception:
        crash_reference(log, f"automatic review of {project}#{number} failed")
        return
    if done is not None:
        log.info(
            "automatic review of %s!%s posted: %s (%s)", project, number, done.url, done.counts
        )
