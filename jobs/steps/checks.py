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
from bot.checks.results import CheckReport, CheckResult, CheckStarted, EgressRefused
from bot.checks.runner import CheckRunner
from bot.core.config import Settings
from bot.core.errors import UserError
from bot.core.mcp_servers import McpServer
from bot.git.mirrors import repo_key
from bot.processes.control import RunControl
from bot.security.egress import confined, refusal_text, repo_hosts, run_hosts
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


def repo_mcp_servers(session: Session, workdir: Path) -> tuple[McpServer, ...]:
    """The MCP servers the base branch's `.repobox.yml` declares (none when it is invalid:
    the checks step says why)."""
    return load(session, workdir)[0].mcp


def repo_egress_hosts(ctx: JobContext, session: Session, workdir: Path) -> tuple[str, ...]:
    """What the base branch's `.repobox.yml` adds to the agent's allow-list: only hosts the
    operator lets repositories add (the checks step names the others in the thread)."""
    if not ctx.settings.egress_allowed:
        return ()
    config, _ = load(session, workdir)
    return repo_hosts(ctx.settings, config.hosts)[0]


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

    def emit(event: CheckStarted | CheckResult | EgressRefused) -> None:
        if isinstance(event, EgressRefused):
            _warn(stream, prompt_id, refusal_text(event.host), egress_refused=event.host)
            return
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
    added = network_hosts(ctx.settings, config, stream, prompt_id)
    with confined(ctx.settings, run_hosts(ctx.settings, extra=added)) as sandbox:
        runner = CheckRunner(ctx.settings, key, sandbox)
        report = runner.run(workdir, config, control, commit=commit, changed=changed, emit=emit)
    return Checked(config, report)


def network_hosts(
    settings: Settings, config: ChecksConfig, stream: ProgressStream, prompt_id: str
) -> tuple[str, ...]:
    """The hosts `.repobox.yml` adds that the operator allows; the others get a problem
    line in the thread (a warning: the run goes on without them)."""
    kept, refused = repo_hosts(settings, config.hosts)
    if refused:
        _warn(
            stream,
            prompt_id,
            f"⚠️ `.repobox.yml` asks for {', '.join(refused)} under `network: hosts:`, which "
            "the operator does not let repositories add (REPOBOX_EGRESS_ALLOWED); commands "
            "cannot reach them.",
        )
    return kept


def _warn(stream: ProgressStream, prompt_id: str, text: str, **data: object) -> None:
    try:
        stream.emit(EventKind.WARNING, text, prompt_id, **data)
    except RedisError:
        log.warning("a warning for %s was dropped: Redis refused the write", prompt_id)


def _append(stream: ProgressStream, prompt_id: str, text: str, **data: object) -> None:
    try:
        stream.emit(EventKind.STEP, text, prompt_id, **data)
    except RedisError:
        log.warning("check progress of %s dropped: Redis refused the write", prompt_id)
