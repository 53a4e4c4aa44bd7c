"""Free space on the data dir: below REPOBOX_MIN_FREE_MB new sessions and runs are refused.

Refusing early keeps the last megabytes for what is already running and for the embedded
Valkey, whose append-only file lives on the same disk by default: a database that cannot
write refuses every session, not just the new one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.core.errors import UserError


class DiskFull(UserError):
    """The data dir is short of space; the message says how short and what to do."""


def free_mb(path: Path) -> float:
    """Free megabytes on the filesystem holding `path` (or its nearest existing parent)."""
    target = path
    while not target.exists() and target != target.parent:
        target = target.parent
    return shutil.disk_usage(target).free / 2**20


def refusal(free: float, minimum: float, where: str) -> DiskFull:
    return DiskFull(
        f"Repobox is short of disk space on {where} ({free:,.0f} MB free, it keeps at least "
        f"{minimum:,.0f} MB), so it takes no new sessions or prompts until space is freed.",
        hint="Archived workdirs are being removed; an operator can free space or lower "
        "REPOBOX_MIN_FREE_MB.",
    )


def check(path: Path, minimum: float, where: str = "this machine") -> None:
    """Raise `DiskFull` if the filesystem holding `path` has less than `minimum` MB free."""
    if minimum <= 0:
        return
    free = free_mb(path)
    if free < minimum:
        raise refusal(free, minimum, where)
