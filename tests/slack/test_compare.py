"""`compare` and `pick` on Slack: one reply edited in place with a line per candidate, the
verdicts and a "Pick n" button each at the end; a pick by button or typed, then a merge
request on the (fake) GitLab with candidate 2's change only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.compare.outcome import CandidateOutcome, Comparison
from bot.core.config import Settings
from bot.progress.view import PromptView
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.prompts import Action, PromptState
from bot.sessions.results import FileLine, RunResult
from bot.sessions.session import Session
from bot.surfaces.slack.blocks import progress
from jobs.steps.context import JobContext
from tests.agent_support import fake  # noqa: F401 - fixture
from tests.compare_support import OPUS_CALC, script_candidates
from tests.compare_surfaces import (
    COMPARE,
    REFUSED,
    TOO_MANY,
    assert_chosen_by_comparison,
    assert_only_opus,
    calc_repo,
    with_models,
)
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.gitlab import DEFAULT_TOKEN, MAINTAINER, FakeGitLab
from tests.fakes.slack import FakeMessage, FakeSlack, block_errors, render
from tests.slack.support import ALICE, BOB, CHANNEL, Workspace, session_of


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as server:
        yield server


@pytest.fixture
def slack_settings(
    slack_settings: Settings,
    gitlab: FakeGitLab,
    fake: FakeAnthropic,  # noqa: F811
) -> Settings:
    """Slack, with GitLab as the default host and the models at the fake Anthropic API."""
    return with_models(slack_settings, fake).with_changes(
        gitlab_url=gitlab.url,
        gitlab_token=DEFAULT_TOKEN,
        default_provider="gitlab",
        forge_retries=2,
        forge_backoff=0.01,
    )


def start(
    workspace: Workspace,
    slack: FakeSlack,
    ctx: JobContext,
    gitlab: FakeGitLab,
    origin: Path,
) -> tuple[FakeMessage, Session, int]:
    project = gitlab.add_project("acme/calc", origin.as_uri(), members={gitlab.bot.id: MAINTAINER})
    assert workspace.slash("new acme/calc").status == 200
    run_jobs(ctx)
    (card,) = [m for m in slack.messages(CHANNEL) if not m.is_reply]
    return card, session_of(ctx, CHANNEL, card.ts), project


def comparison_reply(slack: FakeSlack, card: FakeMessage) -> FakeMessage:
    """The comparison's own reply (not the short one that mentions the author at the end)."""
    (reply,) = [
        m
        for m in slack.messages(CHANNEL, card.ts)
        if m.bot_id and m.blocks and "Compar" in render(m.params.get("blocks"))
    ]
    return reply


def buttons(message: FakeMessage) -> dict[str, tuple[str, str]]:
    """Button label -> (action_id, value)."""
    return {
        e["text"]["text"]: (e["action_id"], e["value"])
        for block in message.blocks or []
        if block["type"] == "actions"
        for e in block["elements"]
    }


def test_compare_shows_each_candidate_then_the_button_picks_and_ship_opens_the_mr(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    gitlab: FakeGitLab,
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    origin = calc_repo(slack_ctx.settings, make_repo, tmp_path)
    card, session, project = start(workspace, slack, slack_ctx, gitlab, origin)
    script_candidates(fake)

    asked, _ = workspace.reply(card.ts, COMPARE, user=ALICE)
    run_jobs(slack_ctx)

    reply = comparison_reply(slack, card)
    seen = [render(reply.params.get("blocks")), *(e.visible_text for e in reply.edits)]
    live = [s for s in seen if "Comparing 3 candidates…" in s]
    assert live, seen  # live while it ran, one line per candidate, edited in place
    for line in ("*1. sonnet* · ", "*2. opus* · ", "*3. haiku* · ", "files — · checks"):
        assert line in live[0], live[0]
    assert not slack.messages(CHANNEL, card.ts)[-1].text.startswith(f"<@{ALICE}> ❌")
    shown = reply.visible_text
    assert shown.startswith("⚖️ *Compared 3 candidates* in")
    assert "*1. sonnet* — ❌ checks fail" in shown
    assert "*2. opus* — ✅ checks pass" in shown
    assert "*3. haiku* — ✅ checks pass · cheapest" in shown
    assert "files 2 files changed" in shown and "tokens · $" in shown
    assert "Press *Pick n* or reply `pick &lt;n&gt;` to adopt one" in shown
    picks = buttons(reply)
    assert list(picks) == ["Pick 1 (sonnet)", "Pick 2 (opus)", "Pick 3 (haiku)"]
    ending = slack.messages(CHANNEL, card.ts)[-1].text
    assert ending.startswith(f"<@{ALICE}> ⚖️ Compared 3 candidates (sonnet, opus, haiku)")
    assert slack.reactions(CHANNEL, asked.ts) == ["white_check_mark"]

    action_id, value = picks["Pick 2 (opus)"]
    assert workspace.click(action_id, value, message_ts=reply.ts, user=BOB).status == 200
    run_jobs(slack_ctx)
    said = "\n".join(m.visible_text for m in slack.messages(CHANNEL, card.ts))
    assert "Picked candidate 2 (opus): 2 files changed" in said
    workdir = Path(slack_ctx.service.sessions.get(session.id).workdir or "")
    assert git("show", "HEAD:calc.py", cwd=workdir) == OPUS_CALC

    action_id, value = picks["Pick 3 (haiku)"]  # too late: one is picked already
    workspace.click(action_id, value, message_ts=reply.ts, user=BOB)
    run_jobs(slack_ctx)
    (refusal,) = slack.ephemerals(CHANNEL, BOB)
    assert "Candidate 2 of the last comparison is already picked" in refusal.text

    workspace.reply(card.ts, "ship it", user=ALICE)
    run_jobs(slack_ctx)
    [mr] = gitlab.merge_requests(project)
    assert_chosen_by_comparison(mr.description, "primary-owner")  # the clicker's name
    assert_only_opus(origin, mr.source_branch)
    assert not slack.unhandled


def test_a_typed_pick_and_too_many_candidates_refused(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    gitlab: FakeGitLab,
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    origin = calc_repo(slack_ctx.settings, make_repo, tmp_path)
    card, session, _ = start(workspace, slack, slack_ctx, gitlab, origin)

    workspace.reply(card.ts, TOO_MANY, user=ALICE)
    run_jobs(slack_ctx)
    (refusal,) = slack.ephemerals(CHANNEL, ALICE)
    assert refusal.text == f"{REFUSED} REPOBOX_COMPARE_MAX sets the limit."
    assert slack_ctx.service.prompts.history(session.id) == []

    script_candidates(fake)
    workspace.reply(card.ts, COMPARE, user=ALICE)
    run_jobs(slack_ctx)
    workspace.reply(card.ts, "pick 2", user=ALICE)
    run_jobs(slack_ctx)
    said = "\n".join(m.visible_text for m in slack.messages(CHANNEL, card.ts))
    assert "Picked candidate 2 (opus): 2 files changed" in said
    workdir = Path(slack_ctx.service.sessions.get(session.id).workdir or "")
    assert git("show", "HEAD:calc.py", cwd=workdir) == OPUS_CALC
    assert not slack.unhandled


def test_a_wide_comparison_stays_within_slacks_limits() -> None:
    """30 candidates with long names and steps (REPOBOX_COMPARE_MAX allows it): every
    version of the reply is one Slack accepts, and each candidate keeps its Pick button."""
    labels = [f"claude-sonnet-5-5-{'x' * 60}-{n}" for n in range(1, 31)]
    view = PromptView("p1", Action.COMPARE, ALICE, "Alice", "tidy up calc " * 50)
    view.take(ProgressEvent(EventKind.STARTED, "", "p1", {"candidates": labels}, id="1-0"))
    for n, label in enumerate(labels, start=1):
        step = {"candidate": n, "label": label, "check": "tests", "status": "running"}
        view.take(ProgressEvent(EventKind.STEP, "<!channel> " * 400, "p1", step, id=f"2-{n}"))
    live = progress(view, "https://log", view.started_at or 0.0)
    result = RunResult(files=(FileLine("calc.py", 1, 1),), commit="c0ffee", cost_usd=0.5)
    outcomes = tuple(
        CandidateOutcome(n, label, PromptState.DONE, result, "said " * 500, "✅ checks pass")
        for n, label in enumerate(labels, start=1)
    )
    data = RunResult(extra={"comparison": Comparison(outcomes, "base").to_dict()}).to_dict()
    view.take(ProgressEvent(EventKind.RESULT, "Compared 30 candidates.", "p1", data, id="3-0"))
    final = progress(view, "https://log", view.finished_at or 0.0)

    for _, blocks in (live, final):
        assert block_errors(blocks) == [] and len(blocks) <= 50
        assert "<!channel>" not in render(blocks)
    pick_buttons = [e for b in final[1] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in pick_buttons] == [f"repobox_pick_{n}" for n in range(1, 31)]
