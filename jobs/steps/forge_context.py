"""What the agent is told about the conversation a comment came from (read in a job).

`session.context` (agreed with the agents): kind, title, body, url, number, `closes` (issues
only), the earlier comments as they stood when the triggering comment was made, and
`instructions` (filled in at set-up from the target branch). `prompt.origin`: the comment
itself and, for a review comment, the file, the line, the diff hunk and the rest of that
discussion; `reply` says where the answers go. Everything people cannot see is stripped.
"""

from __future__ import annotations

from bot.forges.events import CommentEvent
from bot.forges.forge import Conversation, Forge, ForgeUser, Remark
from bot.forges.text import visible
from bot.sessions.origin import ForgeComment, ForgeOrigin, ReviewSpot
from bot.sessions.quote import Quote
from bot.sessions.thread_context import ThreadContext

MAX_COMMENTS = 100
MAX_BODY = 20_000


def _said(remark: Remark) -> Quote:
    return Quote(remark.author.username, visible(remark.body)[:MAX_BODY])


def earlier_comments(forge: Forge, event: CommentEvent, me: ForgeUser) -> tuple[Quote, ...]:
    """The conversation's comments before the triggering one: no bots' or system notes."""
    remarks = forge.remarks(event.project, event.kind, event.number)
    # Comment ids grow with time within one kind. A GitHub review comment (or a review) is
    # of another kind than the conversation's comments, so there every comment so far counts.
    comparable = event.provider == "gitlab" or (event.review is None and not event.whole_review)
    kept = [
        _said(r)
        for r in remarks
        if not r.system
        and r.author.id != me.id
        and not (comparable and r.id >= event.comment_id)
        and visible(r.body)
    ]
    return tuple(kept[-MAX_COMMENTS:])


def session_context(conversation: Conversation, comments: tuple[Quote, ...]) -> ThreadContext:
    issue = conversation.kind == "issue"
    return ThreadContext(
        kind=conversation.kind,
        number=conversation.number,
        title=visible(conversation.title),
        body=visible(conversation.body)[:MAX_BODY],
        url=conversation.url,
        comments=comments,
        closes=f"#{conversation.number}" if issue else None,
        source_branch=None if issue else conversation.source_branch,
        target_branch=None if issue else conversation.target_branch,  # instructions from here
    )


def origin(forge: Forge, event: CommentEvent) -> ForgeOrigin:
    comment = ForgeComment(
        author=event.author.username,
        body=visible(event.body)[:MAX_BODY],
        url=event.url,
        id=event.comment_id,
    )
    review = None
    if event.review is not None:
        discussion = tuple(
            _said(r)
            for r in forge.thread_remarks(event.reply)
            if r.id < event.comment_id and visible(r.body)
        )
        review = ReviewSpot(
            event.review.path, event.review.line, event.review.diff_hunk, discussion
        )
    return ForgeOrigin(comment, event.reply, review, f"{event.provider}|{event.thread_key}")
