"""Spending caps as the operator writes them in `REPOBOX_BUDGETS` (docs/budgets.md).

Pure values read at start-up, so a typo stops Repobox with the variable's name rather than
letting every prompt through uncapped. What is spent and what is refused is decided above,
in `bot.sessions.budgets`.

    person:50usd/day,project:acme/api:500usd/month,deployment:2000usd/month

A rule is `scope[:name]:amount/period`: `scope` is `person`, `project`, `channel` or
`deployment`; with no name a person, project or channel cap applies to each one on its own;
`amount` is dollars (`50usd`, `$50`) or tokens (`2mtokens`, `500ktokens`, `100000tokens`);
`period` is `day` or `month` (UTC calendar periods).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.errors import ConfigError

SCOPES = ("person", "project", "channel", "deployment")
PERIODS = ("day", "month")
UNITS = ("usd", "tokens")
_AMOUNT = re.compile(
    r"^(?:\$(?P<dollars>\d+(?:\.\d+)?)|(?P<number>\d+(?:\.\d+)?)(?P<scale>[km]?)(?P<unit>usd|tokens))$"
)


@dataclass(frozen=True)
class BudgetRule:
    """One cap: `limit` in `unit` per `period`, for `scope` (`name` None: each one)."""

    scope: str
    name: str | None
    limit: float
    unit: str  # "usd" or "tokens"
    period: str  # "day" or "month"

    @property
    def text(self) -> str:
        """The rule as people read it: "50 USD a day for each person"."""
        amount = f"{self.limit:g} USD" if self.unit == "usd" else f"{self.limit:,.0f} tokens"
        whom = "this deployment" if self.scope == "deployment" else f"{self.scope} {self.name}"
        if self.scope != "deployment" and self.name is None:
            whom = f"each {self.scope}"
        return f"{amount} a {self.period} for {whom}"


def parse_budgets(raw: str) -> tuple[BudgetRule, ...]:
    """Every rule of `raw` (comma- or newline-separated); a `ConfigError` naming a bad one."""
    parts = [p.strip() for p in re.split(r"[,\n]", raw) if p.strip()]
    return tuple(parse_rule(part) for part in parts)


def parse_rule(text: str) -> BudgetRule:
    head, _, tail = text.rpartition(":")
    if not head:
        head, tail = tail, ""
    amount, _, period = tail.partition("/")
    scope, _, name = head.partition(":")
    scope, period = scope.strip().lower(), period.strip().lower()
    if scope not in SCOPES:
        raise _bad(text, f"the scope must be one of {', '.join(SCOPES)}")
    if scope == "deployment" and name:
        raise _bad(text, "a deployment cap takes no name")
    if period not in PERIODS:
        raise _bad(text, "the period must be /day or /month")
    match = _AMOUNT.match(amount.strip().lower())
    if match is None:
        raise _bad(text, "the amount must be like 50usd, $50, 500ktokens or 2mtokens")
    if match.group("dollars") is not None:
        limit, unit = float(match.group("dollars")), "usd"
    else:
        scale = {"": 1, "k": 1_000, "m": 1_000_000}[match.group("scale")]
        limit, unit = float(match.group("number")) * scale, match.group("unit")
    if limit <= 0:
        raise _bad(text, "the amount must be more than zero")
    return BudgetRule(scope, name.strip() or None, limit, unit, period)


def _bad(text: str, why: str) -> ConfigError:
    return ConfigError(
        f"REPOBOX_BUDGETS: cannot read `{text}`: {why} "
        "(for example `person:50usd/day,project:acme/api:500usd/month`)"
    )
