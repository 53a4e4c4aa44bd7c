"""Spending caps (`REPOBOX_BUDGETS`, docs/budgets.md): what each run spent, added up per
person, project, channel and deployment for the day and the month; warnings at 80 % and
90 % in the session's thread; new prompts refused at 100 % until the period resets.

Spend lives in one Redis hash per calendar period (UTC), named by the period
(`keys.spend("day:2025-06-01")`), so a period resets by itself when the next one begins,
with nothing to sweep. A run in progress is never stopped: the refusal is at the door
(`refusal`, called by the command layer before a prompt is queued); what a run spent is
added when it ends (`charge`, called by the job).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import RedisError

from bot.core import keys
from bot.core.budget_rules import BudgetRule
from bot.core.redisio import as_str
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.results import RunResult
from bot.sessions.session import Person, Session

log = logging.getLogger(__name__)

WARN_AT = (0.8, 0.9)
SET_BY = "the operator, in REPOBOX_BUDGETS"
KEEP = {"day": 3 * 24 * 3600, "month": 62 * 24 * 3600}  # seconds a period's hash is kept


@dataclass(frozen=True)
class Spend:
    usd: float
    tokens: int

    def of(self, unit: str) -> float:
        return self.usd if unit == "usd" else float(self.tokens)


def period_id(period: str, at: datetime) -> str:
    """The calendar period `at` falls in (UTC): `day:2025-06-01` or `month:2025-06`."""
    at = at.astimezone(UTC)
    return f"day:{at:%Y-%m-%d}" if period == "day" else f"month:{at:%Y-%m}"


def resets_at(period: str, at: datetime) -> datetime:
    """When the period `at` falls in ends: the next midnight, or the next month's first."""
    at = at.astimezone(UTC)
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return midnight + timedelta(days=1)
    first = midnight.replace(day=1)
    return (first + timedelta(days=32)).replace(day=1)


def channel_of(session: Session) -> str | None:
    """The Slack channel a session lives in (`channel:` caps); None elsewhere."""
    if session.thread.surface != "slack":
        return None
    parts = session.thread.key.split(":")
    return parts[1] if len(parts) > 2 else None


def subject(rule: BudgetRule, session: Session, person: Person) -> str | None:
    """The field prefix `rule` counts for this session and person; None: it does not apply."""
    if rule.scope == "deployment":
        return "deployment"
    own = {"person": person.id, "project": session.project, "channel": channel_of(session)}
    name = own[rule.scope]
    if name is None or (rule.name is not None and rule.name != name):
        return None
    return f"{rule.scope}:{name}"


def _field(prefix: str, unit: str) -> str:
    return f"{prefix}:{unit}"


def charge(
    redis: Redis,
    rules: tuple[BudgetRule, ...],
    session: Session,
    person: Person,
    prompt_id: str,
    result: RunResult | None,
    at: datetime | None = None,
    set_by: str = SET_BY,
) -> list[str]:
    """Add what a run spent to every period and subject it counts for; the warnings it
    crossed (80 %, 90 %, 100 % of a cap) go to the session's thread and are returned.
    A side channel: a Redis failure is logged and never fails the run."""
    if result is None:
        return []
    at = at or datetime.now(UTC)
    spent = Spend(result.cost_usd, sum(result.tokens.values()))
    try:
        _add_totals(redis, session, person, spent)
        warnings = _add(redis, rules, session, person, spent, at, set_by)
        stream = ProgressStream(redis, session.id)
        for text in warnings:
            stream.emit(EventKind.WARNING, text, prompt_id, budget=True)
        return warnings
    except (RedisError, OSError):
        log.exception("could not add a run's spend; the run itself is unaffected")
        return []


def _add_totals(redis: Redis, session: Session, person: Person, spent: Spend) -> None:
    pipe = redis.pipeline(transaction=False)
    for prefix in (f"person:{person.id}", f"project:{session.project}"):
        if spent.usd > 0:
            pipe.hincrbyfloat(keys.spend_totals(), _field(prefix, "usd"), spent.usd)
        if spent.tokens > 0:
            pipe.hincrby(keys.spend_totals(), _field(prefix, "tokens"), spent.tokens)
    pipe.execute()


def _add(
    redis: Redis,
    rules: tuple[BudgetRule, ...],
    session: Session,
    person: Person,
    spent: Spend,
    at: datetime,
    set_by: str = SET_BY,
) -> list[str]:
    """Add to each counter the rules name (once, though two rules share one), then the
    warning of each rule whose mark this run crossed."""
    counted: list[tuple[BudgetRule, str, tuple[str, str]]] = []
    counters: dict[tuple[str, str], float] = {}
    keep: dict[str, int] = {}
    for rule in rules:
        prefix = subject(rule, session, person)
        if prefix is None or spent.of(rule.unit) <= 0:
            continue
        counter = (keys.spend(period_id(rule.period, at)), _field(prefix, rule.unit))
        counters[counter] = spent.of(rule.unit)
        keep[counter[0]] = KEEP[rule.period]
        counted.append((rule, prefix, counter))
    if not counters:
        return []
    pipe = redis.pipeline(transaction=False)
    for (key, name), amount in counters.items():
        pipe.hincrbyfloat(key, name, amount)
        pipe.expire(key, keep[key])
    replies = pipe.execute()
    after = {counter: float(replies[2 * n]) for n, counter in enumerate(counters)}
    warnings = []
    for rule, prefix, counter in counted:
        now, before = after[counter], after[counter] - counters[counter]
        crossed = [m for m in (*WARN_AT, 1.0) if before < m * rule.limit <= now]
        if crossed:
            warnings.append(warning_text(rule, prefix, now, crossed[-1], at, set_by))
    return warnings


def warning_text(
    rule: BudgetRule, prefix: str, spent: float, mark: float, at: datetime, set_by: str = SET_BY
) -> str:
    reset = when_text(resets_at(rule.period, at))
    used = amount_text(spent, rule.unit)
    if mark >= 1.0:
        return (
            f"Budget reached: {used} of {rule.text} ({_whom(prefix)}). New prompts are "
            f"refused until it resets {reset}; set by {set_by}."
        )
    return (
        f"Budget at {mark:.0%}: {used} of {rule.text} ({_whom(prefix)}) is spent; "
        f"it resets {reset}."
    )


async def refusal(
    aredis: AsyncRedis,
    rules: tuple[BudgetRule, ...],
    session: Session,
    person: Person,
    at: datetime | None = None,
    set_by: str = SET_BY,
) -> str | None:
    """Why a new prompt must wait (a cap this person, project, channel or deployment has
    reached), in words, with who set it and when it resets; None when none is reached."""
    at = at or datetime.now(UTC)
    for rule in rules:
        prefix = subject(rule, session, person)
        if prefix is None:
            continue
        raw = await aredis.hget(keys.spend(period_id(rule.period, at)), _field(prefix, rule.unit))
        spent = float(as_str(raw)) if raw is not None else 0.0
        if spent >= rule.limit:
            reset = when_text(resets_at(rule.period, at))
            return (
                f"The budget of {rule.text} is spent ({amount_text(spent, rule.unit)}, "
                f"{_whom(prefix)}): new prompts wait until it resets {reset}. "
                f"The cap was set by {set_by}."
            )
    return None


async def spent_now(
    aredis: AsyncRedis, rule: BudgetRule, at: datetime | None = None
) -> list[tuple[str, float]]:
    """What the subjects `rule` counts spent in the current period, most first (for the
    dashboard): one line for a named or deployment cap, each one for `person:50usd/day`."""
    raw = await aredis.hgetall(keys.spend(period_id(rule.period, at or datetime.now(UTC))))
    wanted = "deployment" if rule.scope == "deployment" else f"{rule.scope}:{rule.name or ''}"
    found: list[tuple[str, float]] = []
    for field_name, value in raw.items():
        prefix, _, unit = as_str(field_name).rpartition(":")
        if unit != rule.unit:
            continue
        if prefix == wanted or (rule.name is None and prefix.startswith(f"{rule.scope}:")):
            found.append((_whom(prefix), float(as_str(value))))
    if not found and (rule.name is not None or rule.scope == "deployment"):
        found.append((_whom(wanted), 0.0))
    return sorted(found, key=lambda item: -item[1])


async def totals(aredis: AsyncRedis) -> dict[tuple[str, str, str], float]:
    """Everything spent, for /metrics: (scope, name, unit) -> amount (scope: person|project)."""
    raw = await aredis.hgetall(keys.spend_totals())
    out: dict[tuple[str, str, str], float] = {}
    for field_name, value in raw.items():
        scope, _, rest = as_str(field_name).partition(":")
        name, _, unit = rest.rpartition(":")
        if scope in ("person", "project") and unit in ("usd", "tokens"):
            out[(scope, name, unit)] = float(as_str(value))
    return out


def amount_text(value: float, unit: str) -> str:
    return f"{value:.2f} USD" if unit == "usd" else f"{value:,.0f} tokens"


def _whom(prefix: str) -> str:
    scope, _, name = prefix.partition(":")
    return "the whole deployment" if scope == "deployment" else f"{scope} {name}"


def when_text(moment: datetime) -> str:
    return f"at {moment:%Y-%m-%d %H:%M} UTC"
