"""When this host's disk runs short: remove workdirs nobody needs, oldest first.

"Nobody needs" means a pooled spare, or the workdir of a session that is archived, expired
or now lives on another host (moved after this one was thought lost). The workdirs of open
sessions and the mirrors (which workdirs borrow objects from) are never touched.
Cleaning starts at twice REPOBOX_MIN_FREE_MB, before new work is refused at the threshold.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from bot.core import disk
from bot.core.errors import NotFound
from bot.sessions.session import SessionState
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)

MARGIN = 2.0  # clean below MARGIN x REPOBOX_MIN_FREE_MB, so refusals rarely happen


def short_of_space(ctx: JobContext) -> bool:
    minimum = ctx.settings.min_free_mb
    return minimum > 0 and disk.free_mb(ctx.settings.data_dir) < minimum * MARGIN


def reclaim(ctx: JobContext) -> list[Path]:
    """Remove unneeded workdirs, oldest first, until there is room again; returns them."""
    goal = ctx.settings.min_free_mb * MARGIN
    removed: list[Path] = []
    for path in _candidates(ctx):
        if disk.free_mb(ctx.settings.data_dir) >= goal:
            break
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
        log.warning("disk short: removed %s", path)
    return removed


def _candidates(ctx: JobContext) -> list[Path]:
    """Spare and abandoned workdirs, least recently modified first."""
    found: list[Path] = []
    pool = ctx.settings.pool_dir
    if pool.exists():
        spares = [p for repo in pool.iterdir() if repo.is_dir() for p in repo.iterdir()]
        found += [p for p in spares if p.is_dir() and not p.name.startswith(".")]  # not staging
    workdirs = ctx.settings.workdirs_dir
    if workdirs.exists():
        found += [p for p in workdirs.iterdir() if p.is_dir() and _abandoned(ctx, p.name)]
    return sorted(found, key=_age_key)


def _abandoned(ctx: JobContext, session_id: str) -> bool:
    try:
        session = ctx.service.sessions.get(session_id)
    except NotFound:
        return True
    moved_away = session.host is not None and session.host != ctx.settings.host
    return session.state is SessionState.ARCHIVED or moved_away


def _age_key(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
