"""The checks after a prompt run: read `.repobox.yml` from the base, run, show each step.

The config comes from the session's base commit, never the work branch, so the agent
cannot loosen its own gates. Each check is a STEP event (started, then its verdict with
duration, the last lines and the whole output in `data`), so every surface and the live
page show it through the one progress pipeline. An invalid file is answered, not raised:
the run itself went fine, and the thread says what to fix.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from redis.exceptions import RedisError

from bot.checks.config import ChecksConfig, ConfigInvalid
from bot.checks.reading import read_config
from bot.checks.results import CheckReport, CheckResult, CheckStarted
from bot.checks.runner import CheckRunner
from bot.core.errors import UserError
from bot.git.mirrors import repo_key
from bot.processes.control import RunControl
from bot.security.sandbox import sandbox_for
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Session
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checked:
    """What the checks step produced: a report, or why there was none."""

    config: ChecksConfig
    report: CheckReport | None = None
    problem: str = ""  # an invalid `.repobox.yml`, for the thread


def load(session: Session, workdir: Path) -> tuple[ChecksConfig, str]:
    """The config on the session's base commit (an empty one without a file)."""
    base = session.base_commit or session.base_branch or "HEAD"
    try:
        return read_config(workdir, base), ""
    except (ConfigInvalid, UserError) as error:
        return ChecksConfig(), str(error)


def run_checks(
    ctx: JobContext,
    session: Session,
    prompt_id: str,
    workdir: Path,
    control: RunControl,
    *,
    commit: str,
    changed: Sequence[str] | None,
    config: ChecksConfig | None = None,
    stream: ProgressStream | None = None,
) -> Checked:
    """Setup (first time in this workdir) and every check against `commit`; its steps go
    to `stream` (a comparison's candidate passes one that tags them)."""
    problem = ""
    if config is None:
        config, problem = load(session, workdir)
    if problem or not (config.checks or config.setup):
        return Checked(config, None, problem)
    stream = stream or ProgressStream(ctx.redis, session.id)

    def emit(event: CheckStarted | CheckResult) -> None:
        if isinstance(event, CheckStarted):
            what = "setting up" if event.setup else f"check `{event.name}` running"
            _append(stream, prompt_id, f"⏳ {what}", check=event.name, status="running")
            return
        _append(
            stream,
            prompt_id,
            event.verdict(),
            check=event.name,
            status=event.status.value,
            duration=round(event.duration, 3),
            tail=event.tail,
            output=event.output,
            required=event.required,
            setup=event.setup,
        )

    key = repo_key(session.clone_url or session.repo)
    runner = CheckRunner(ctx.settings, key, sandbox_for(ctx.settings))
    report = runner.run(workdir, config, control, commit=commit, changed=changed, emit=emit)
    return Checked(config, report)


def _append(stream: ProgressStream, prompt_id: str, text: str, **data: object) -> None:
    try:
        stream.emit(EventKind.STEP, text, prompt_id, **data)
    except RedisError:
        log.warning("check progress of %s dropped: Redis refused the write", prompt_id)
