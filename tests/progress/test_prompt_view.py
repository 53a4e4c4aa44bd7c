"""One view of a prompt, folded from its events, read the same way by every surface."""

from __future__ import annotations

import json

from bot.forges.forge import ReplyTarget
from bot.progress.lines import line_of
from bot.progress.view import PromptView
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.prompts import PromptState
from bot.surfaces.forge.card import Card
from bot.surfaces.slack import blocks as slack_blocks

DENIED = "Claude Code was not allowed: ran `rm -rf build`"


def folded(*events: ProgressEvent) -> PromptView:
    view = PromptView("p1", author="U1", author_name="Alice", text="tidy up")
    for n, event in enumerate(events, start=1):
        assert view.take(
            ProgressEvent(event.kind, event.text, "p1", event.data, 100.0 + n, f"{n}-0")
        )
    return view


def run_with_a_warning() -> PromptView:
    return folded(
        ProgressEvent(EventKind.STARTED, "go"),
        ProgressEvent(EventKind.STEP, "ran `rm -rf build`"),
        ProgressEvent(EventKind.WARNING, DENIED),
        ProgressEvent(EventKind.RESULT, "Tidied.", data={"diffstat": "1 file changed (+1 −0)"}),
    )


def test_a_warning_shows_in_the_slack_reply_the_forge_comment_and_the_log() -> None:
    view = run_with_a_warning()
    assert view.state is PromptState.DONE and view.warnings == [DENIED]

    _text, blocks = slack_blocks.progress(view, "https://log", now=200.0)
    assert f"⚠️ {DENIED}" in json.dumps(blocks, ensure_ascii=False)
    card = Card(ReplyTarget("p", "issue", 1), "alice", "https://log", view)
    assert f"- ⚠️ {DENIED}" in card.render()
    assert line_of(ProgressEvent(EventKind.WARNING, DENIED)).tag == "warn"


def test_an_event_is_taken_once_and_the_view_survives_redis() -> None:
    view = run_with_a_warning()
    again = ProgressEvent(EventKind.WARNING, "twice", "p1", id="3-0")
    assert not view.take(again)  # another relay delivered it already
    stored = PromptView.from_dict(json.loads(json.dumps(view.to_dict())))
    assert stored == view
