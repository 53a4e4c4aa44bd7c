"""Within Slack's limits: rate limits (429 with Retry-After), one edit a second per
message, 3,000 characters a section, and output nobody can use to ping a channel."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.base import Recorded
from tests.fakes.slack import FakeSlack, block_errors, ratelimited
from tests.slack.support import BOB, CHANNEL, INTERVAL, Workspace


def attempts(slack: FakeSlack, ts: str) -> list[float]:
    """When each chat.update of one message reached Slack, refused ones included."""
    return [c.at for c in slack.calls_to("chat.update") if c.params().get("ts") == ts]


def storm(
    slack: FakeSlack, method: str, times: int, when: Callable[[dict[str, Any]], bool]
) -> None:
    """Answer 429 (Retry-After: 1) to the next `times` calls of `method` that match `when`."""
    serve = slack._methods[method]  # the fake's own handler, wrapped
    left = itertools.count(times, -1)

    def throttled(params: dict[str, Any], call: Recorded) -> Any:
        if when(params) and next(left) > 0:
            raise ratelimited(1)
        return serve(params, call)

    slack.add_method(method, throttled)


def test_a_429_storm_still_lands_every_final_message_at_one_edit_per_interval(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    slack.enforce_edit_rate(INTERVAL)  # Slack refuses bursts of edits to one message
    slack.rate_limit("chat.postMessage", times=1)  # the card
    # The final edit of the reply: more 429s in a row than slack_sdk's handler retries.
    storm(slack, "chat.update", 3, lambda params: "Done" in str(params.get("text")))
    storm(slack, "reactions.add", 1, lambda params: params.get("name") == "white_check_mark")
    message, _ = workspace.mention(f"{make_repo()} print 5\nsleep 0.3\nwrite a.txt: x")
    run_jobs(slack_ctx)

    card, progress, done = slack.messages(CHANNEL, message.ts)
    assert "Ready for a prompt" in card.visible_text
    assert progress.visible_text.startswith("✅ *Done* in")
    assert "a.txt` +1 −0" in progress.visible_text
    assert done.text.startswith(f"<@{BOB}> ✅ Done:")
    assert slack.reactions(CHANNEL, message.ts) == ["white_check_mark"]
    for bot_message in (card, progress):
        times = [bot_message.posted_at, *attempts(slack, bot_message.ts)]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= INTERVAL for gap in gaps), gaps
    # Only the scripted 429s: the edit-rate rule never had to refuse an edit.
    assert len(slack.throttled()) == 1 + 3 + 1


def test_long_output_is_trimmed_with_the_rest_one_link_away_and_escaped(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    lines = [f"write f{n:02d}.txt: {n}" for n in range(12)]
    lines += ["<!channel> &amp; friends", "y" * 5000]
    message, _ = workspace.mention(f"{make_repo()} " + "\n".join(lines))
    run_jobs(slack_ctx)

    _, progress, done = slack.messages(CHANNEL, message.ts)
    shown = progress.visible_text
    assert shown.startswith("✅ *Done* in")
    assert "&lt;!channel&gt; &amp; friends" in shown
    assert "the rest is in the log>" in shown  # the 5,000-character summary, cut
    assert "• `f09.txt` +1 −0\n…and 2 more (<http://repobox.test/sessions/" in shown
    assert "12 files changed (+12 −0)" in shown
    every_version = [progress.params, *(e.params for e in slack.edits(CHANNEL, progress.ts))]
    assert all(block_errors(v["blocks"]) == [] for v in every_version)
    assert all("<!channel>" not in str(v) for v in every_version)
    assert "<!channel>" not in done.text


def test_the_web_process_waits_out_a_429_once_and_the_home_tab_still_lands(
    workspace: Workspace, slack: FakeSlack
) -> None:
    """Bolt's client reads Retry-After the way every Slack call does (capped), and tries
    again: the person sees their Home tab."""
    slack.rate_limit("views.publish", times=1, retry_after=1)
    opened = {"type": "app_home_opened", "user": BOB, "channel": "D111", "tab": "home"}
    assert workspace.event(opened).status == 200
    assert "Your Repobox sessions" in str(slack.home_views[BOB])
    assert len(slack.throttled("views.publish")) == 1
