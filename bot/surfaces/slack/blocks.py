"""What Repobox's Slack messages look like: the session card, progress replies, notices.

Every function returns `(text, blocks)`: `text` is the short notification fallback, the
blocks are what people see. Everything that came from an agent or a person is escaped (so
output such as `<!channel>` pings nobody) and trimmed to Slack's limits, with the rest one
link away in the session's log.
"""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.models.blocks import Block, ButtonElement, ConfirmObject

from bot.commands.service import Status
from bot.progress.view import PromptView
from bot.sessions.prompts import Action, PromptState
from bot.sessions.results import FileLine, RunResult
from bot.sessions.session import Session, SessionState
from bot.surfaces.slack import comparison
from bot.surfaces.slack.kit import (
    FILES_SHOWN,
    MAX_FALLBACK,
    MAX_SECTION,
    Rendered,
    actions,
    button,
    code,
    context,
    duration,
    escape,
    fields,
    mrkdwn,
    notice,
    plain,
    section,
    trim,
    within_limits,
)

ACTION_SHIP = "repobox_ship"
ACTION_CANCEL = "repobox_cancel"
ACTION_ARCHIVE = "repobox_archive"
ACTION_LOG = "repobox_log"
ACTION_UNDO = "repobox_undo"

STATE_LABELS = {
    SessionState.INITIALIZING: "⏳ Setting up",
    SessionState.READY: "🟢 Ready for a prompt",
    SessionState.RUNNING: "⚙️ Running",
    SessionState.PUSHED: "🚢 Pushed",
    SessionState.ARCHIVED: "📦 Archived",
    SessionState.FAILED: "❌ Failed",
}


# -- the session card -------------------------------------------------------------------------
def card(session: Session, log_url: str) -> Rendered:
    state = STATE_LABELS[session.state]
    text = f"Repobox session {session.id} on {session.repo}: {state}"
    return trim(text, MAX_FALLBACK), within_limits(_card(session, log_url), log_url)


def _card(session: Session, log_url: str) -> list[Block]:
    state = STATE_LABELS[session.state]
    title = f"*{escape(session.title)}*\n" if session.title else ""
    head = f"{title}Repobox session `{session.id}` on `{escape(session.repo)}`"
    base = f" from `{escape(session.base_branch)}`" if session.base_branch else ""
    pairs = [
        ("State", state),
        ("Started by", f"<@{session.created_by.id}>"),
        ("Work branch", f"`{escape(session.work_branch)}`{base}"),
    ]
    if session.model:  # `new … --model`, `use <model>`: otherwise the deployment's
        pairs.append(("Model", f"`{escape(session.model)}`"))
    if session.merge_request:
        url = session.merge_request.url
        pairs.append(("Merge request", f"<{url}|{escape(url)}>"))
    elif session.shipped:
        pairs.append(("Pushed", f"`{escape(session.work_branch)}`"))
    blocks: list[Block] = [section(head), fields(pairs)]
    if session.state is SessionState.FAILED and session.error:
        blocks.append(section(f"❌ {escape(session.error)}", log_url))
    blocks.append(actions(_buttons(session, log_url), block_id="session"))
    if session.state not in (SessionState.ARCHIVED, SessionState.FAILED):
        blocks.append(
            context("Reply in this thread with a prompt · say `ship it` to push and open the MR")
        )
    return blocks


def _buttons(session: Session, log_url: str) -> list[ButtonElement]:
    log = button("View log", ACTION_LOG, session.id, url=log_url)
    if session.state is SessionState.ARCHIVED:
        return [log]
    if session.state is SessionState.FAILED:
        return [_archive_button(session), log]
    return [
        button("Ship it", ACTION_SHIP, session.id, style="primary"),
        button("Cancel", ACTION_CANCEL, session.id),
        _archive_button(session),
        log,
    ]


def _archive_button(session: Session) -> ButtonElement:
    confirm = ConfirmObject(
        title=plain("Archive this session?"),
        text=mrkdwn("The run stops and the workdir is removed."),
        confirm=plain("Archive"),
        deny=plain("Keep it"),
    )
    return button("Archive", ACTION_ARCHIVE, session.id, style="danger", confirm=confirm)


# -- a prompt's reply -------------------------------------------------------------------------
def progress(view: PromptView, log_url: str, now: float) -> Rendered:
    if view.action is Action.COMPARE:
        return comparison.progress(view, log_url, now)
    ship = view.action is Action.SHIP
    headline = _headline(view, ship, now)
    asked = f"> {escape(trim(' '.join(view.text.split()), 200))}" if not ship else "> ship it"
    blocks: list[Block] = [section(headline), context(f"{asked} · <@{view.author}>")]
    if view.state is PromptState.RUNNING and view.recent:
        blocks.append(section(code(view.recent, MAX_SECTION - 10)))
    elif view.state is PromptState.DONE and not view.shipped:
        blocks += _summary(view, log_url)
    elif view.final and view.outcome:
        blocks.append(section(escape(view.outcome), log_url))
        if view.state is PromptState.FAILED and view.recent:
            blocks.append(section(code(view.recent, MAX_SECTION - 10)))
    if view.final:
        blocks.append(context(f"<{log_url}|Full log>"))
    return trim(headline.replace("*", ""), MAX_FALLBACK), within_limits(blocks, log_url)


def _headline(view: PromptView, ship: bool, now: float) -> str:
    took = duration((view.finished_at or now) - (view.started_at or view.finished_at or now))
    if view.state is PromptState.QUEUED:
        ahead = "1 item" if view.ahead == 1 else f"{view.ahead} items"
        what = "This ship" if ship else "This prompt"
        return f"⏳ *Waiting*: {what} runs after {ahead} ahead of it in the queue."
    if view.state is PromptState.RUNNING:
        if ship:
            return f"🚢 *Shipping…* · {took}"
        lines = f" · {view.lines} lines of output" if view.lines else ""
        return f"⚙️ *Working…* · {took}{lines}"
    if view.shipped:
        return "🚢 *Shipped*"
    if view.state is PromptState.DONE:
        return f"✅ *Done* in {took}"
    if view.state is PromptState.CANCELLED:
        return "⏹️ *Cancelled*" if view.started_at else "⏹️ *Cancelled* before it ran"
    return f"❌ *Failed* after {took}" if view.started_at else "❌ *Failed*"


def _summary(view: PromptView, log_url: str) -> list[Block]:
    result = view.result or RunResult()
    blocks: list[Block] = [section(escape(view.outcome or "Done."), log_url)]
    if view.warnings:
        blocks.append(section("\n".join(f"⚠️ {escape(w)}" for w in view.warnings), log_url))
    files = result.files
    if files:
        lines = [_file_line(f) for f in files[:FILES_SHOWN]]
        if len(files) > FILES_SHOWN:
            lines.append(f"…and {len(files) - FILES_SHOWN} more (<{log_url}|see the log>)")
        blocks.append(section("*Files changed*\n" + "\n".join(lines), log_url))
    facts = [result.diffstat or "no changes"]
    if result.total_tokens:
        facts.append(f"{result.total_tokens:,} tokens")
    if result.cost_usd:
        facts.append(f"${result.cost_usd:.4f}")
    facts.append(f"took {duration(result.duration_s)}")
    blocks.append(context(" · ".join(facts)))
    return blocks


def _file_line(change: FileLine) -> str:
    counts = "binary" if change.binary else f"+{change.added} −{change.removed}"
    return f"• `{escape(change.path)}` {counts}"


def announcement(view: PromptView) -> str:
    """The short new reply that notifies the author when their item ends (edits do not)."""
    who = f"<@{view.author}>"
    first = escape(trim(view.outcome.strip().splitlines()[0], 200)) if view.outcome.strip() else ""
    if view.shipped:
        return f"{who} 🚢 {first}"
    if view.action is Action.COMPARE and view.state is PromptState.DONE:
        return f"{who} ⚖️ {first} Pick one with its button or `pick &lt;n&gt;`."
    if view.action is Action.COMPARE and view.state is PromptState.FAILED:
        last = view.outcome.strip().splitlines()[-1] if view.outcome.strip() else ""
        return f"{who} ❌ {escape(trim(last, 200))}"  # why no candidate can be picked
    if view.state is PromptState.DONE:
        stat = view.result.diffstat if view.result else ""
        tail = f" ({escape(stat)})" if stat else ""
        return f"{who} ✅ Done: {first}{tail}"
    if view.state is PromptState.CANCELLED:
        return f"{who} ⏹️ Cancelled: {first}"
    return f"{who} ❌ That did not work: {first}"


# -- answers to `status` and `diff` -----------------------------------------------------------
def status(report: Status, log_url: str) -> Rendered:
    session = report.session
    lines = []
    if report.running is not None:
        lines.append(f"⚙️ running: {escape(trim(report.running.text, 120))}")
    for n, item in enumerate(report.waiting, start=1):
        lines.append(f"⏳ {n}. {escape(trim(item.text, 120))}")
    summary = "\n".join(lines) or "Nothing is running or waiting."
    blocks = [*_card(session, log_url)[:2], section(summary, log_url)]
    blocks.append(context(f"<{log_url}|Full log>"))
    return f"Session {session.id}: {session.state.value}", within_limits(blocks)


def diff(data: Mapping[str, object], log_url: str) -> Rendered:
    stat = data.get("stat")
    if not stat or not isinstance(stat, Mapping):
        return notice("No changes yet.")
    listed = stat.get("files")
    changed = listed[:FILES_SHOWN] if isinstance(listed, list) else []
    files = [_file_line(FileLine.from_dict(f)) for f in changed]
    summary = f"*{escape(str(stat.get('summary', '')))}*\n" + "\n".join(files)
    blocks: list[Block] = [section(summary, log_url)]
    patch = str(data.get("patch") or "")
    if patch:
        blocks.append(section(code(patch.splitlines(), MAX_SECTION - 10, newest=False)))
    blocks.append(context(f"<{log_url}|The whole diff is in the log>"))
    return str(stat.get("summary", "diff")), within_limits(blocks)


def channel_sessions(sessions: list[Session]) -> Rendered:
    if not sessions:
        return notice("No open sessions in this channel. Start one with `/repobox new <repo>`.")
    lines = [
        f"• `{s.id}` {STATE_LABELS[s.state]} on `{escape(s.repo)}` by <@{s.created_by.id}>"
        for s in sessions[:20]
    ]
    return notice("*Open sessions in this channel*\n" + "\n".join(lines))
