"""Which spending caps are in force, and who set them.

REPOBOX_BUDGETS is the start-up default. An admin may replace it on the dashboard's Budgets
page: the caps are then kept in Redis (`keys.budget_caps()`, in the same syntax) with who
saved them and when, and win over the variable until an admin goes back to it ("Use
REPOBOX_BUDGETS"), which deletes the stored caps. Both the door (`refusal`) and the job
(`charge`) read the caps here, so an edit counts from the next prompt on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import RedisError

from bot.core import keys
from bot.core.budget_rules import BudgetRule, parse_budgets
from bot.core.errors import ConfigError
from bot.core.redisio import as_str

log = logging.getLogger(__name__)
FROM_ENV = "the operator, in REPOBOX_BUDGETS"


@dataclass(frozen=True)
class Caps:
    rules: tuple[BudgetRule, ...]
    set_by: str  # as people read it: "Alice on the dashboard, 2025-06-01 10:00 UTC"
    stored: bool  # from the dashboard (True) or REPOBOX_BUDGETS (False)


def rule_text(rule: BudgetRule) -> str:
    """A rule back in REPOBOX_BUDGETS' syntax: `project:acme/api:500usd/month`."""
    head = rule.scope if rule.name is None else f"{rule.scope}:{rule.name}"
    amount = f"{rule.limit:g}usd" if rule.unit == "usd" else f"{rule.limit:.0f}tokens"
    return f"{head}:{amount}/{rule.period}"


def same_cap(a: BudgetRule, b: BudgetRule) -> bool:
    """Two rules for one counter: a new one replaces the old."""
    return (a.scope, a.name, a.unit, a.period) == (b.scope, b.name, b.unit, b.period)


def _caps(raw: Mapping[bytes | str, bytes | str], default: tuple[BudgetRule, ...]) -> Caps:
    if not raw:
        return Caps(default, FROM_ENV, stored=False)
    values = {as_str(k): as_str(v) for k, v in raw.items()}
    try:
        rules = parse_budgets(values.get("rules", ""))
    except ConfigError:  # written by us, so only a hand edit gets here: keep the default
        log.error("the stored spending caps cannot be read; REPOBOX_BUDGETS applies")
        return Caps(default, FROM_ENV, stored=False)
    by = f"{values.get('by') or 'an admin'} on the dashboard, {values.get('at', '')}"
    return Caps(rules, by.rstrip(", "), stored=True)


async def current(aredis: AsyncRedis, default: tuple[BudgetRule, ...]) -> Caps:
    return _caps(await aredis.hgetall(keys.budget_caps()), default)


def current_sync(redis: Redis, default: tuple[BudgetRule, ...]) -> Caps:
    """For the job; a Redis failure falls back on REPOBOX_BUDGETS (charging is a side
    channel and never fails a run)."""
    try:
        return _caps(redis.hgetall(keys.budget_caps()), default)
    except RedisError:
        return Caps(default, FROM_ENV, stored=False)


async def save(aredis: AsyncRedis, rules: tuple[BudgetRule, ...], by: str) -> None:
    at = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    text = ",".join(rule_text(rule) for rule in rules)
    await aredis.hset(keys.budget_caps(), mapping={"rules": text, "by": by, "at": at})


async def forget(aredis: AsyncRedis) -> None:
    """Back to REPOBOX_BUDGETS."""
    await aredis.delete(keys.budget_caps())
