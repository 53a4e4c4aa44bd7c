"""What the agent is told about the conversation a comment came from (read in a job).

`session.context` (agreed with the agents): kind, title, body, url, number, `closes` (issues
only), the earlier comments as they stood when the triggering comment was made, and
`instructions` (filled in at set-up from the target branch). `prompt.origin`: the comment
itself and, for a review comment, the file, the line, the diff hunk and the rest of that
discussion; `reply` says where the answers go. Everything people cannot see is stripped.
"""

from __future__ import annotations

from typing import Any

from bot.providers.forge import Conversation, Forge, ForgeUser, Remark
from bot.surfaces.forge_events import CommentEvent
from bot.surfaces.forge_text import visible

MAX_COMMENTS = 100
MAX_BODY = 20_000


def _said(remark: Remark) -> dict[str, str]:
    return {"author": remark.author.username, "body": visible(remark.body)[:MAX_BODY]}


def earlier_comments(forge: Forge, event: CommentEvent, me: ForgeUser) -> list[dict[str, str]]:
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
    return kept[-MAX_COMMENTS:]


def session_context(conversation: Conversation, comments: list[dict[str, str]]) -> dict[str, Any]:
    context: dict[str, Any] = {
        "kind": conversation.kind,
        "title": visible(conversation.title),
        "body": visible(conversation.body)[:MAX_BODY],
        "url": conversation.url,
        "number": conversation.number,
        "comments": comments,
    }
    if conversation.kind == "issue":
        context["closes"] = f"#{conversation.number}"
    else:
        context["source_branch"] = conversation.source_branch
        context["target_branch"] = conversation.target_branch  # instructions come from here
    return context


def origin(forge: Forge, event: CommentEvent) -> dict[str, Any]:
    result: dict[str, Any] = {
        "comment": {
            "author": event.author.username,
            "body": visible(event.body)[:MAX_BODY],
            "url": event.url,
            "id": event.comment_id,
        },
        "reply": event.reply.to_dict(),
    }
    if event.review is not None:
        discussion = [
            _said(r)
            for r in forge.thread_remarks(event.reply)
            if r.id < event.comment_id and visible(r.body)
        ]
        result["review"] = {
            "path": event.review.path,
            "line": event.review.line,
            "diff_hunk": event.review.diff_hunk,
            "discussion": discussion,
        }
    return result
