"""The repository's checks on a new checkpoint, and the autofix rounds that hand failing
required checks back to the agent (`autofix: N` in `.repobox.yml`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bot.agents.base import RunRequest
from bot.checks.results import CheckReport, failures_prompt
from bot.core.config import Settings
from bot.git import checkpoints
from bot.processes.control import RunControl
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.prompts import Prompt
from bot.sessions.session import Session
from jobs.steps.agent_turn import checkpoint, drive, show
from jobs.steps.checks import Checked, repo_egress_hosts, run_checks
from jobs.steps.context import JobContext


def check_and_fix(
    ctx: JobContext,
    session: Session,
    prompt: Prompt,
    control: RunControl,
    held: Callable[[], bool],
    commit: str,
    start_commit: str,
    result: ProgressEvent | None,
    *,
    agent: Settings | None = None,
    stream: ProgressStream | None = None,
) -> tuple[Checked | None, ProgressEvent | None]:
    """The checks on the new checkpoint, then the autofix rounds the config allows
    (in `session.workdir`; a candidate's session names its own)."""
    workdir = Path(session.workdir or "")
    changed = _changed(workdir, start_commit)
    checked = run_checks(
        ctx, session, prompt.id, workdir, control, commit=commit, changed=changed, stream=stream
    )
    if checked.report is not None and not checked.report.passed:
        checked, result = _autofix(
            ctx, session, prompt, control, held, checked, start_commit, result, agent, stream
        )
    return checked, result


def verdicts(summary: str, checked: Checked | None, data: dict[str, object]) -> str:
    """The reply ends with one verdict per check (or what is wrong with the config); the
    result records the report."""
    if checked is not None and checked.report is not None:
        data["checks"] = stored(checked.report)
        summary += "\n\n" + "\n".join(checked.report.verdicts())
    if checked is not None and checked.problem:
        summary += "\n\n⚠️ " + checked.problem
    return summary


def _changed(workdir: Path, since: str) -> list[str]:
    return [f.path for f in checkpoints.diffstat(workdir, since).files]


def _autofix(
    ctx: JobContext,
    session: Session,
    prompt: Prompt,
    control: RunControl,
    held: Callable[[], bool],
    checked: Checked,
    start_commit: str,
    result: ProgressEvent | None,
    agent: Settings | None = None,
    stream: ProgressStream | None = None,
) -> tuple[Checked, ProgressEvent | None]:
    """`autofix: N`: hand failing required checks back to the agent, up to N rounds, each
    a visible step; the run's result is the last round's."""
    stream = stream or ProgressStream(ctx.redis, session.id)
    rounds = checked.config.autofix
    workdir = Path(session.workdir or "")
    for number in range(1, rounds + 1):
        report = checked.report
        if report is None or report.passed or control.should_stop() or not held():
            break
        failing = ", ".join(f"`{r.name}`" for r in report.blocking)
        show(
            stream,
            ProgressEvent(
                EventKind.STEP,
                f"🔁 autofix round {number}/{rounds}: handing {failing} back to the agent",
                prompt.id,
                {"autofix": number},
            ),
        )
        fix = replace(prompt, text=failures_prompt(report))
        request = RunRequest(fix.text, workdir, session, prompt.author, (), prompt.origin)
        request = replace(request, egress_hosts=repo_egress_hosts(ctx, session, workdir))
        fixed, failure = drive(ctx, request, control, prompt.id, agent=agent, stream=stream)
        if failure is not None or fixed is None:
            break
        result = fixed
        commit = checkpoint(ctx, workdir, fix, control, None, fixed)
        if not commit:
            break
        checked = run_checks(
            ctx, session, prompt.id, workdir, control, commit=commit,
            changed=_changed(workdir, start_commit), config=checked.config, stream=stream,
        )  # fmt: skip
    return checked, result


def stored(report: CheckReport) -> dict[str, object]:
    """The report as a result keeps it: the whole outputs stay on the STEP events."""
    return report.without_outputs().to_dict()
